package jobapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/cofferbackup/coffer/internal/api/wire"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/service"
	"github.com/cofferbackup/coffer/internal/vocab"
)

type backupJobJSON struct {
	AccountId              string
	BackupJobId            string
	BackupVaultName        string
	BackupVaultArn         string
	RecoveryPointArn       string          `json:",omitempty"`
	RecoveryPointLifecycle *wire.Lifecycle `json:",omitempty"`
	ResourceArn            string
	ResourceName           string
	ResourceType           string
	CreationDate           *wire.Epoch `json:",omitempty"`
	InitiationDate         *wire.Epoch `json:",omitempty"`
	CompletionDate         *wire.Epoch `json:",omitempty"`
	StartBy                *wire.Epoch `json:",omitempty"`
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

func (s *handlers) toBackupJobJSON(j jobstore.BackupJob) backupJobJSON {
	out := backupJobJSON{
		AccountId: s.account, BackupJobId: j.ID, BackupVaultName: j.VaultName, BackupVaultArn: j.VaultARN,
		ResourceArn: j.ResourceARN, ResourceName: strings.TrimPrefix(j.ResourceARN, "arn:aws:s3:::"), ResourceType: j.ResourceType,
		CreationDate: wire.TS(j.CreatedAt), InitiationDate: wire.TS(j.StartedAt), CompletionDate: wire.TS(j.CompletedAt), StartBy: wire.TS(j.StartBy),
		State: j.State, StatusMessage: j.StatusMessage, PercentDone: j.PercentDone, BackupSizeInBytes: j.BackupSize,
		BytesTransferred: j.BytesTransferred, IamRoleArn: j.IAMRoleARN, BackupOptions: j.BackupOptions, IsEncrypted: true,
	}
	if j.State == service.StateCompleted || j.State == service.StatePartial {
		out.RecoveryPointArn = j.RecoveryPointARN
	}
	if j.DeleteAfterDays > 0 {
		out.RecoveryPointLifecycle = &wire.Lifecycle{DeleteAfterDays: j.DeleteAfterDays}
	}
	if j.Stats != "" && j.Stats != "{}" {
		out.CofferStats = json.RawMessage(j.Stats)
	}
	if len(out.BackupOptions) == 0 {
		out.BackupOptions = nil
	}
	out.CreatedBy = wire.CreatedBy(j.VaultARN, j.VaultName, j.PlanID, j.PlanVersion, j.RuleID)
	return out
}

func (s *handlers) startBackupJob(r *http.Request, body []byte) (any, error) {
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
	if err := wire.Decode(body, &in); err != nil {
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
	return map[string]any{"BackupJobId": j.ID, "RecoveryPointArn": j.RecoveryPointARN, "CreationDate": wire.TS(j.CreatedAt)}, nil
}

func (s *handlers) describeBackupJob(r *http.Request, _ []byte) (any, error) {
	j, err := s.svc.BackupJob(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return s.toBackupJobJSON(j), nil
}

func (s *handlers) stopBackupJob(r *http.Request, _ []byte) (any, error) {
	return struct{}{}, s.svc.StopBackupJob(r.Context(), r.PathValue("id"))
}

var backupStates = map[string]bool{
	"CREATED": true, "PENDING": true, "RUNNING": true, "ABORTING": true, "ABORTED": true,
	"COMPLETED": true, "FAILED": true, "EXPIRED": true, "PARTIAL": true,
}

func (s *handlers) listBackupJobs(r *http.Request, _ []byte) (any, error) {
	p, err := wire.Page(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	f := jobstore.BackupJobFilter{ResourceARN: q.Get("resourceArn"), State: q.Get("state"),
		VaultName: q.Get("backupVaultName"), ResourceType: q.Get("resourceType")}
	if f.State != "" && !backupStates[f.State] {
		return nil, wire.BadParam("state %q is not a backup job state", f.State)
	}
	if acct := q.Get("accountId"); acct != "" && acct != s.account {
		return wire.ListOut("BackupJobs", []backupJobJSON{}, ""), nil
	}
	if err := wire.QueryTimes(r, map[string]*time.Time{"createdAfter": &f.CreatedAfter, "createdBefore": &f.CreatedBefore,
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
	return wire.ListOut("BackupJobs", out, tok), nil
}
