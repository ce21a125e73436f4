package jobapi

import (
	"encoding/json"
	"net/http"

	"github.com/cofferbackup/coffer/internal/api/wire"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
)

// The maintenance-job extension (docs/api.md, "Maintenance jobs"):
// ListMaintenanceJobs, DescribeMaintenanceJob, StopMaintenanceJob and
// StartMaintenanceJob, shaped like the backup-job operations.
func (s *handlers) maintenanceRoutes(rt wire.Routes) {
	rt.Handle("PUT /maintenance-jobs", s.startMaintenanceJob)
	rt.Handle("GET /maintenance-jobs", s.listMaintenanceJobs)
	rt.Handle("GET /maintenance-jobs/{id}", s.describeMaintenanceJob)
	rt.Handle("POST /maintenance-jobs/{id}", s.stopMaintenanceJob)
}

type maintenanceJobJSON struct {
	AccountId        string
	MaintenanceJobId string
	BackupVaultName  string
	BackupVaultArn   string
	State            string
	StatusMessage    string `json:",omitempty"`
	Trigger          string
	CreationDate     *wire.Epoch `json:",omitempty"`
	InitiationDate   *wire.Epoch `json:",omitempty"`
	CompletionDate   *wire.Epoch `json:",omitempty"`
	// ProcessId is the coffer process that ran (or runs) the job.
	ProcessId string `json:",omitempty"`
	// MaintenanceStats is the run's vaultmaint.Stats.
	MaintenanceStats json.RawMessage `json:",omitempty"`
}

func (s *handlers) toMaintenanceJobJSON(j jobstore.MaintenanceJob) maintenanceJobJSON {
	out := maintenanceJobJSON{
		AccountId: s.account, MaintenanceJobId: j.ID, BackupVaultName: j.VaultName, BackupVaultArn: j.VaultARN,
		State: j.State, StatusMessage: j.StatusMessage, Trigger: j.Trigger,
		CreationDate: wire.TS(j.CreatedAt), InitiationDate: wire.TS(j.StartedAt), CompletionDate: wire.TS(j.CompletedAt), ProcessId: j.Owner,
	}
	if j.Stats != "" && j.Stats != "{}" {
		out.MaintenanceStats = json.RawMessage(j.Stats)
	}
	return out
}

func (s *handlers) startMaintenanceJob(r *http.Request, body []byte) (any, error) {
	var in struct{ BackupVaultName string }
	if err := wire.Decode(body, &in); err != nil {
		return nil, err
	}
	j, err := s.svc.StartMaintenanceJob(r.Context(), in.BackupVaultName)
	if err != nil {
		return nil, err
	}
	return s.toMaintenanceJobJSON(j), nil
}

func (s *handlers) describeMaintenanceJob(r *http.Request, _ []byte) (any, error) {
	j, err := s.svc.MaintenanceJob(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return s.toMaintenanceJobJSON(j), nil
}

func (s *handlers) stopMaintenanceJob(r *http.Request, _ []byte) (any, error) {
	return struct{}{}, s.svc.StopMaintenanceJob(r.Context(), r.PathValue("id"))
}

var maintenanceStates = map[string]bool{"CREATED": true, "RUNNING": true, "ABORTED": true, "COMPLETED": true, "FAILED": true}

func (s *handlers) listMaintenanceJobs(r *http.Request, _ []byte) (any, error) {
	p, err := wire.Page(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	f := jobstore.MaintenanceJobFilter{VaultName: q.Get("backupVaultName"), State: q.Get("state")}
	if f.State != "" && !maintenanceStates[f.State] {
		return nil, wire.BadParam("state %q is not a maintenance job state (CREATED, RUNNING, ABORTED, COMPLETED, FAILED)", f.State)
	}
	jobs, tok, err := s.svc.ListMaintenanceJobs(r.Context(), f, p)
	if err != nil {
		return nil, err
	}
	out := make([]maintenanceJobJSON, 0, len(jobs))
	for _, j := range jobs {
		out = append(out, s.toMaintenanceJobJSON(j))
	}
	return wire.ListOut("MaintenanceJobs", out, tok), nil
}
