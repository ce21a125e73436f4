package jobapi

import (
	"net/http"

	"github.com/cofferbackup/coffer/internal/api/wire"
	"github.com/cofferbackup/coffer/internal/jobreport"
)

// The job-report extension (docs/api.md, "Job reports"): the per-key
// detail of a job, which coffer keeps in the encrypted vault rather than
// in the catalog.
func (s *handlers) reportRoutes(rt wire.Routes) {
	rt.Handle("GET /restore-jobs/{id}/report", s.restoreJobReport)
	rt.Handle("GET /backup-jobs/{id}/report", s.backupJobReport)
}

type failureJSON struct {
	Key       string
	VersionId string `json:",omitempty"`
	Reason    string
}

type jobReportJSON struct {
	RestoreJobId   string `json:",omitempty"`
	BackupJobId    string `json:",omitempty"`
	State          string
	CompletionDate *wire.Epoch   `json:",omitempty"`
	ItemsToRestore []string      `json:",omitempty"`
	SkippedKeys    []string      `json:",omitempty"`
	SkippedCount   int64         `json:",omitempty"`
	Failures       []failureJSON `json:",omitempty"`
	FailedCount    int64         `json:",omitempty"`
	Notes          []string      `json:",omitempty"`
	Details        []string      `json:",omitempty"`
}

func toJobReportJSON(r jobreport.Report) jobReportJSON {
	out := jobReportJSON{State: r.State, CompletionDate: wire.TS(r.CompletedAt), ItemsToRestore: r.Items,
		SkippedKeys: r.Skipped, SkippedCount: r.SkippedCount, FailedCount: r.FailedCount, Notes: r.Notes, Details: r.Details}
	if r.Kind == jobreport.KindRestore {
		out.RestoreJobId = r.JobID
	} else {
		out.BackupJobId = r.JobID
	}
	for _, f := range r.Failures {
		out.Failures = append(out.Failures, failureJSON{Key: f.Key, VersionId: f.VersionID, Reason: f.Reason})
	}
	return out
}

func (s *handlers) restoreJobReport(r *http.Request, _ []byte) (any, error) {
	rep, err := s.svc.RestoreJobReport(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return toJobReportJSON(rep), nil
}

func (s *handlers) backupJobReport(r *http.Request, _ []byte) (any, error) {
	rep, err := s.svc.BackupJobReport(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return toJobReportJSON(rep), nil
}
