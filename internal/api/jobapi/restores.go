package jobapi

import (
	"net/http"
	"time"

	"github.com/cofferbackup/coffer/internal/api/wire"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/service"
)

type restoreJobJSON struct {
	AccountId                 string
	RestoreJobId              string
	RecoveryPointArn          string
	SourceResourceArn         string `json:",omitempty"`
	BackupVaultArn            string
	CreationDate              *wire.Epoch `json:",omitempty"`
	CompletionDate            *wire.Epoch `json:",omitempty"`
	Status                    string
	StatusMessage             string `json:",omitempty"`
	PercentDone               string
	BackupSizeInBytes         int64
	IamRoleArn                string `json:",omitempty"`
	CreatedResourceArn        string `json:",omitempty"`
	ResourceType              string
	RecoveryPointCreationDate *wire.Epoch `json:",omitempty"`
	// BytesRestored is coffer's extension.
	BytesRestored int64
}

func (s *handlers) toRestoreJobJSON(j jobstore.RestoreJob) restoreJobJSON {
	return restoreJobJSON{
		AccountId: s.account, RestoreJobId: j.ID, RecoveryPointArn: j.RecoveryPointARN, SourceResourceArn: j.SourceResourceARN,
		BackupVaultArn: j.VaultARN, CreationDate: wire.TS(j.CreatedAt), CompletionDate: wire.TS(j.CompletedAt), Status: j.Status,
		StatusMessage: j.StatusMessage, PercentDone: j.PercentDone, BackupSizeInBytes: j.BackupSize, IamRoleArn: j.IAMRoleARN,
		CreatedResourceArn: j.CreatedResourceARN, ResourceType: j.ResourceType, RecoveryPointCreationDate: wire.TS(j.RecoveryPointCreatedAt),
		BytesRestored: j.BytesRestored,
	}
}

func (s *handlers) startRestoreJob(r *http.Request, body []byte) (any, error) {
	var in struct {
		RecoveryPointArn string
		Metadata         map[string]string
		IamRoleArn       string
		IdempotencyToken string
		ResourceType     string
	}
	if err := wire.Decode(body, &in); err != nil {
		return nil, err
	}
	j, err := s.svc.StartRestoreJob(r.Context(), service.StartRestoreInput{
		RecoveryPointARN: in.RecoveryPointArn, Metadata: in.Metadata, IAMRoleARN: in.IamRoleArn,
		IdempotencyToken: in.IdempotencyToken, ResourceType: in.ResourceType,
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"RestoreJobId": j.ID}, nil
}

func (s *handlers) describeRestoreJob(r *http.Request, _ []byte) (any, error) {
	j, err := s.svc.RestoreJob(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return s.toRestoreJobJSON(j), nil
}

var restoreStatuses = map[string]bool{"PENDING": true, "RUNNING": true, "COMPLETED": true, "ABORTED": true, "FAILED": true}

func (s *handlers) listRestoreJobs(r *http.Request, _ []byte) (any, error) {
	p, err := wire.Page(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	f := jobstore.RestoreJobFilter{ResourceType: q.Get("resourceType"), Status: q.Get("status")}
	if f.Status != "" && !restoreStatuses[f.Status] {
		return nil, wire.BadParam("status %q is not a restore job status", f.Status)
	}
	if err := wire.QueryTimes(r, map[string]*time.Time{"createdAfter": &f.CreatedAfter, "createdBefore": &f.CreatedBefore,
		"completeAfter": &f.CompleteAfter, "completeBefore": &f.CompleteBefore}); err != nil {
		return nil, err
	}
	jobs, tok, err := s.svc.ListRestoreJobs(r.Context(), f, p)
	if err != nil {
		return nil, err
	}
	out := make([]restoreJobJSON, 0, len(jobs))
	for _, j := range jobs {
		out = append(out, s.toRestoreJobJSON(j))
	}
	return wire.ListOut("RestoreJobs", out, tok), nil
}
