package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/service"
	"github.com/cofferbackup/coffer/internal/vocab"
)

type lifecycleJSON struct {
	DeleteAfterDays            int64 `json:",omitempty"`
	MoveToColdStorageAfterDays int64 `json:",omitempty"`
}

type backupJobJSON struct {
	AccountId              string
	BackupJobId            string
	BackupVaultName        string
	BackupVaultArn         string
	RecoveryPointArn       string         `json:",omitempty"`
	RecoveryPointLifecycle *lifecycleJSON `json:",omitempty"`
	ResourceArn            string
	ResourceName           string
	ResourceType           string
	CreationDate           *epoch `json:",omitempty"`
	InitiationDate         *epoch `json:",omitempty"`
	CompletionDate         *epoch `json:",omitempty"`
	StartBy                *epoch `json:",omitempty"`
	State                  string
	StatusMessage          string `json:",omitempty"`
	PercentDone            string
	BackupSizeInBytes      int64
	BytesTransferred       int64
	IamRoleArn             string            `json:",omitempty"`
	BackupOptions          map[string]string `json:",omitempty"`
	IsEncrypted            bool
	CreatedBy              map[string]string `json:",omitempty"`
	// CofferStats is coffer's extension: objects and bytes scanned,
	// transferred and deduplicated.
	CofferStats json.RawMessage `json:",omitempty"`
}

func (s *Server) toBackupJobJSON(j jobstore.BackupJob) backupJobJSON {
	out := backupJobJSON{
		AccountId: s.account, BackupJobId: j.ID, BackupVaultName: j.VaultName, BackupVaultArn: j.VaultARN,
		ResourceArn: j.ResourceARN, ResourceName: strings.TrimPrefix(j.ResourceARN, "arn:aws:s3:::"), ResourceType: j.ResourceType,
		CreationDate: ts(j.CreatedAt), InitiationDate: ts(j.StartedAt), CompletionDate: ts(j.CompletedAt), StartBy: ts(j.StartBy),
		State: j.State, StatusMessage: j.StatusMessage, PercentDone: j.PercentDone, BackupSizeInBytes: j.BackupSize,
		BytesTransferred: j.BytesTransferred, IamRoleArn: j.IAMRoleARN, BackupOptions: j.BackupOptions, IsEncrypted: true,
	}
	if j.State == service.StateCompleted || j.State == service.StatePartial {
		out.RecoveryPointArn = j.RecoveryPointARN
	}
	if j.DeleteAfterDays > 0 {
		out.RecoveryPointLifecycle = &lifecycleJSON{DeleteAfterDays: j.DeleteAfterDays}
	}
	if j.Stats != "" && j.Stats != "{}" {
		out.CofferStats = json.RawMessage(j.Stats)
	}
	if len(out.BackupOptions) == 0 {
		out.BackupOptions = nil
	}
	out.CreatedBy = createdBy(j.VaultARN, j.VaultName, j.PlanID, j.PlanVersion, j.RuleID)
	return out
}

// createdBy is the CreatedBy of a job or recovery point that a plan rule
// made; nil for on-demand ones. The plan ARN shares the vault ARN's region
// and account.
func createdBy(vaultARN, vaultName, planID, version, ruleID string) map[string]string {
	if planID == "" {
		return nil
	}
	return map[string]string{"BackupPlanId": planID, "BackupPlanVersion": version, "BackupRuleId": ruleID,
		"BackupPlanArn": strings.Replace(vaultARN, ":backup-vault:"+vaultName, ":backup-plan:"+planID, 1)}
}

func (s *Server) startBackupJob(r *http.Request, body []byte) (any, error) {
	var in struct {
		BackupVaultName       string
		ResourceArn           string
		IamRoleArn            string
		IdempotencyToken      string
		StartWindowMinutes    int64
		CompleteWindowMinutes int64
		Lifecycle             *struct{ DeleteAfterDays, MoveToColdStorageAfterDays *int64 }
		RecoveryPointTags     map[string]string
		BackupOptions         map[string]string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	si := service.StartBackupInput{
		VaultName: in.BackupVaultName, ResourceARN: in.ResourceArn, IAMRoleARN: in.IamRoleArn,
		IdempotencyToken: in.IdempotencyToken, StartWindowMinutes: in.StartWindowMinutes,
		CompleteWindowMinutes: in.CompleteWindowMinutes, RecoveryPointTags: in.RecoveryPointTags, BackupOptions: in.BackupOptions,
	}
	if l := in.Lifecycle; l != nil {
		// A given 0 is refused here; the service reads 0 as "none".
		if err := vocab.ValidateLifecycle(l.DeleteAfterDays, l.MoveToColdStorageAfterDays); err != nil {
			return nil, err
		}
		if l.DeleteAfterDays != nil {
			si.DeleteAfterDays = *l.DeleteAfterDays
		}
	}
	j, err := s.svc.StartBackupJob(r.Context(), si)
	if err != nil {
		return nil, err
	}
	return map[string]any{"BackupJobId": j.ID, "RecoveryPointArn": j.RecoveryPointARN, "CreationDate": ts(j.CreatedAt)}, nil
}

func (s *Server) describeBackupJob(r *http.Request, _ []byte) (any, error) {
	j, err := s.svc.BackupJob(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return s.toBackupJobJSON(j), nil
}

func (s *Server) stopBackupJob(r *http.Request, _ []byte) (any, error) {
	return struct{}{}, s.svc.StopBackupJob(r.Context(), r.PathValue("id"))
}

var backupStates = map[string]bool{
	"CREATED": true, "PENDING": true, "RUNNING": true, "ABORTING": true, "ABORTED": true,
	"COMPLETED": true, "FAILED": true, "EXPIRED": true, "PARTIAL": true,
}

func (s *Server) listBackupJobs(r *http.Request, _ []byte) (any, error) {
	p, err := page(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	f := jobstore.BackupJobFilter{ResourceARN: q.Get("resourceArn"), State: q.Get("state"),
		VaultName: q.Get("backupVaultName"), ResourceType: q.Get("resourceType")}
	if f.State != "" && !backupStates[f.State] {
		return nil, badParam("state %q is not a backup job state", f.State)
	}
	if acct := q.Get("accountId"); acct != "" && acct != s.account {
		return listOut("BackupJobs", []backupJobJSON{}, ""), nil
	}
	if err := queryTimes(r, map[string]*time.Time{"createdAfter": &f.CreatedAfter, "createdBefore": &f.CreatedBefore,
		"completeAfter": &f.CompleteAfter, "completeBefore": &f.CompleteBefore}); err != nil {
		return nil, err
	}
	jobs, tok, err := s.svc.ListBackupJobs(r.Context(), f, p)
	if err != nil {
		return nil, err
	}
	out := make([]backupJobJSON, 0, len(jobs))
	for _, j := range jobs {
		out = append(out, s.toBackupJobJSON(j))
	}
	return listOut("BackupJobs", out, tok), nil
}
