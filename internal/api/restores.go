package api

import (
	"net/http"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/service"
)

type restoreJobJSON struct {
	AccountId                 string
	RestoreJobId              string
	RecoveryPointArn          string
	SourceResourceArn         string `json:",omitempty"`
	BackupVaultArn            string
	CreationDate              *epoch `json:",omitempty"`
	CompletionDate            *epoch `json:",omitempty"`
	Status                    string
	StatusMessage             string `json:",omitempty"`
	PercentDone               string
	BackupSizeInBytes         int64
	IamRoleArn                string `json:",omitempty"`
	CreatedResourceArn        string `json:",omitempty"`
	ResourceType              string
	RecoveryPointCreationDate *epoch `json:",omitempty"`
	// BytesRestored is coffer's extension.
	BytesRestored int64
}

func (s *Server) toRestoreJobJSON(j jobstore.RestoreJob) restoreJobJSON {
	return restoreJobJSON{
		AccountId: s.account, RestoreJobId: j.ID, RecoveryPointArn: j.RecoveryPointARN, SourceResourceArn: j.SourceResourceARN,
		BackupVaultArn: j.VaultARN, CreationDate: ts(j.CreatedAt), CompletionDate: ts(j.CompletedAt), Status: j.Status,
		StatusMessage: j.StatusMessage, PercentDone: j.PercentDone, BackupSizeInBytes: j.BackupSize, IamRoleArn: j.IAMRoleARN,
		CreatedResourceArn: j.CreatedResourceARN, ResourceType: j.ResourceType, RecoveryPointCreationDate: ts(j.RecoveryPointCreatedAt),
		BytesRestored: j.BytesRestored,
	}
}

func (s *Server) startRestoreJob(r *http.Request, body []byte) (any, error) {
	var in struct {
		RecoveryPointArn string
		Metadata         map[string]string
		IamRoleArn       string
		IdempotencyToken string
		ResourceType     string
	}
	if err := decode(body, &in); err != nil {
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

func (s *Server) describeRestoreJob(r *http.Request, _ []byte) (any, error) {
	j, err := s.svc.RestoreJob(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return s.toRestoreJobJSON(j), nil
}

var restoreStatuses = map[string]bool{"PENDING": true, "RUNNING": true, "COMPLETED": true, "ABORTED": true, "FAILED": true}

func (s *Server) listRestoreJobs(r *http.Request, _ []byte) (any, error) {
	p, err := page(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	f := jobstore.RestoreJobFilter{ResourceType: q.Get("resourceType"), Status: q.Get("status")}
	if f.Status != "" && !restoreStatuses[f.Status] {
		return nil, badParam("status %q is not a restore job status", f.Status)
	}
	if err := queryTimes(r, map[string]*time.Time{"createdAfter": &f.CreatedAfter, "createdBefore": &f.CreatedBefore,
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
	return listOut("RestoreJobs", out, tok), nil
}
