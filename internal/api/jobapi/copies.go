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

func (s *handlers) copyRoutes(rt wire.Routes) {
	rt.Handle("PUT /copy-jobs", s.startCopyJob)
	rt.Handle("GET /copy-jobs/{id}", s.describeCopyJob)
	rt.Handle("GET /copy-jobs", s.listCopyJobs)
}

type copyJobJSON struct {
	AccountId                         string
	CopyJobId                         string
	SourceBackupVaultArn              string
	SourceRecoveryPointArn            string
	DestinationBackupVaultArn         string
	DestinationRecoveryPointArn       string          `json:",omitempty"`
	DestinationRecoveryPointLifecycle *wire.Lifecycle `json:",omitempty"`
	ResourceArn                       string
	ResourceName                      string
	ResourceType                      string
	CreationDate                      *wire.Epoch `json:",omitempty"`
	CompletionDate                    *wire.Epoch `json:",omitempty"`
	State                             string
	StatusMessage                     string `json:",omitempty"`
	BackupSizeInBytes                 int64
	IamRoleArn                        string            `json:",omitempty"`
	CreatedBy                         map[string]string `json:",omitempty"`
	CreatedByBackupJobId              string            `json:",omitempty"`
	// BytesTransferred (read from the source vault) and CofferStats are
	// coffer's extensions.
	BytesTransferred int64
	CofferStats      json.RawMessage `json:",omitempty"`
}

func (s *handlers) toCopyJobJSON(j jobstore.CopyJob) copyJobJSON {
	out := copyJobJSON{
		AccountId: s.account, CopyJobId: j.ID, SourceBackupVaultArn: j.SourceVaultARN, SourceRecoveryPointArn: j.SourceRecoveryPointARN,
		DestinationBackupVaultArn: j.DestinationVaultARN, ResourceArn: j.ResourceARN, ResourceType: j.ResourceType,
		ResourceName: j.ResourceARN[strings.LastIndex(j.ResourceARN, ":")+1:],
		CreationDate: wire.TS(j.CreatedAt), CompletionDate: wire.TS(j.CompletedAt), State: j.State, StatusMessage: j.StatusMessage,
		BackupSizeInBytes: j.BackupSize, IamRoleArn: j.IAMRoleARN, CreatedByBackupJobId: j.CreatedByBackupJobID,
		BytesTransferred: j.BytesTransferred,
	}
	if j.State == service.StateCompleted {
		out.DestinationRecoveryPointArn = j.DestinationRecoveryPointARN
	}
	if j.DeleteAfterDays > 0 || j.MoveToColdAfterDays > 0 {
		out.DestinationRecoveryPointLifecycle = &wire.Lifecycle{DeleteAfterDays: j.DeleteAfterDays, MoveToColdStorageAfterDays: j.MoveToColdAfterDays}
	}
	if j.Stats != "" && j.Stats != "{}" {
		out.CofferStats = json.RawMessage(j.Stats)
	}
	out.CreatedBy = wire.CreatedBy(j.DestinationVaultARN, j.DestinationVaultName, j.PlanID, j.PlanVersion, j.RuleID)
	return out
}

func (s *handlers) startCopyJob(r *http.Request, body []byte) (any, error) {
	var in struct {
		RecoveryPointArn          string
		SourceBackupVaultName     string
		DestinationBackupVaultArn string
		IamRoleArn                string
		IdempotencyToken          string
		Lifecycle                 *struct{ DeleteAfterDays, MoveToColdStorageAfterDays *int64 }
	}
	if err := wire.Decode(body, &in); err != nil {
		return nil, err
	}
	si := service.StartCopyInput{RecoveryPointARN: in.RecoveryPointArn, SourceVaultName: in.SourceBackupVaultName,
		DestinationVault: in.DestinationBackupVaultArn, IAMRoleARN: in.IamRoleArn, IdempotencyToken: in.IdempotencyToken}
	if in.DestinationBackupVaultArn != "" {
		// The API takes an ARN; a bare name is the CLI's.
		if _, _, err := vocab.ParseVaultARN(in.DestinationBackupVaultArn); err != nil {
			return nil, err
		}
	}
	if l := in.Lifecycle; l != nil {
		if err := vocab.ValidateLifecycle(l.DeleteAfterDays, l.MoveToColdStorageAfterDays); err != nil {
			return nil, err
		}
		if l.DeleteAfterDays != nil {
			si.DeleteAfterDays = *l.DeleteAfterDays
		}
		if l.MoveToColdStorageAfterDays != nil {
			si.MoveToColdAfterDays = *l.MoveToColdStorageAfterDays
		}
	}
	j, err := s.svc.StartCopyJob(r.Context(), si)
	if err != nil {
		return nil, err
	}
	return map[string]any{"CopyJobId": j.ID, "CreationDate": wire.TS(j.CreatedAt), "IsParent": false}, nil
}

func (s *handlers) describeCopyJob(r *http.Request, _ []byte) (any, error) {
	j, err := s.svc.CopyJob(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"CopyJob": s.toCopyJobJSON(j)}, nil
}

var copyStates = map[string]bool{"CREATED": true, "RUNNING": true, "COMPLETED": true, "FAILED": true, "PARTIAL": true}

func (s *handlers) listCopyJobs(r *http.Request, _ []byte) (any, error) {
	p, err := wire.Page(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	f := jobstore.CopyJobFilter{ResourceARN: q.Get("resourceArn"), ResourceType: q.Get("resourceType"), State: q.Get("state"),
		DestinationVaultARN: q.Get("destinationVaultArn"), SourceRecoveryPointARN: q.Get("sourceRecoveryPointArn")}
	if f.State != "" && !copyStates[f.State] {
		return nil, wire.BadParam("state %q is not a copy job state", f.State)
	}
	if a := q.Get("accountId"); a != "" && a != s.account {
		return wire.ListOut("CopyJobs", []copyJobJSON{}, ""), nil
	}
	if q.Get("parentJobId") != "" {
		return wire.ListOut("CopyJobs", []copyJobJSON{}, ""), nil // coffer's copies have no parent jobs
	}
	if err := wire.QueryTimes(r, map[string]*time.Time{"createdAfter": &f.CreatedAfter, "createdBefore": &f.CreatedBefore,
		"completeAfter": &f.CompleteAfter, "completeBefore": &f.CompleteBefore}); err != nil {
		return nil, err
	}
	jobs, tok, err := s.svc.ListCopyJobs(r.Context(), f, p)
	if err != nil {
		return nil, err
	}
	out := make([]copyJobJSON, 0, len(jobs))
	for _, j := range jobs {
		out = append(out, s.toCopyJobJSON(j))
	}
	return wire.ListOut("CopyJobs", out, tok), nil
}
