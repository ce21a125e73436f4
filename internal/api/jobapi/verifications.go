package jobapi

import (
	"net/http"

	"github.com/cofferbackup/coffer/internal/api/wire"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/service"
)

// The verification-job extension (docs/api.md, "Verification jobs"):
// StartVerificationJob, DescribeVerificationJob, ListVerificationJobs.
func (s *handlers) verificationRoutes(rt wire.Routes) {
	rt.Handle("POST /verification-jobs", s.startVerificationJob)
	rt.Handle("PUT /verification-jobs", s.startVerificationJob)
	rt.Handle("GET /verification-jobs/{id}", s.describeVerificationJob)
	rt.Handle("GET /verification-jobs", s.listVerificationJobs)
}

// verificationJobJSON is a verification job; its report's fields are
// those of the synchronous VerifyBackupVault, with the affected recovery
// points as ARNs.
type verificationJobJSON struct {
	AccountId         string
	VerificationJobId string
	BackupVaultName   string
	BackupVaultArn    string
	State             string
	StatusMessage     string      `json:",omitempty"`
	CreationDate      *wire.Epoch `json:",omitempty"`
	InitiationDate    *wire.Epoch `json:",omitempty"`
	CompletionDate    *wire.Epoch `json:",omitempty"`
	ProcessId         string      `json:",omitempty"`
	// OK: the job completed and found no problem.
	OK bool
	service.VerificationReport
}

func (s *handlers) toVerificationJobJSON(j jobstore.VerificationJob, rep service.VerificationReport) verificationJobJSON {
	rep.ReadDataPercent, rep.Seed = j.ReadDataPercent, j.Seed
	return verificationJobJSON{AccountId: s.account, VerificationJobId: j.ID, BackupVaultName: j.VaultName, BackupVaultArn: j.VaultARN,
		State: j.State, StatusMessage: j.StatusMessage, CreationDate: wire.TS(j.CreatedAt), InitiationDate: wire.TS(j.StartedAt),
		CompletionDate: wire.TS(j.CompletedAt), ProcessId: j.Owner, OK: j.State == "COMPLETED" && rep.OK(), VerificationReport: rep}
}

func (s *handlers) startVerificationJob(r *http.Request, body []byte) (any, error) {
	var in struct {
		BackupVaultName string
		ReadDataPercent float64
		Seed            uint64
	}
	if err := wire.Decode(body, &in); err != nil {
		return nil, err
	}
	j, err := s.svc.StartVerificationJob(r.Context(), service.StartVerificationInput{VaultName: in.BackupVaultName,
		ReadDataPercent: in.ReadDataPercent, Seed: in.Seed})
	if err != nil {
		return nil, err
	}
	return map[string]any{"VerificationJobId": j.ID, "CreationDate": wire.TS(j.CreatedAt), "Seed": j.Seed}, nil
}

func (s *handlers) describeVerificationJob(r *http.Request, _ []byte) (any, error) {
	j, rep, err := s.svc.VerificationJob(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"VerificationJob": s.toVerificationJobJSON(j, rep)}, nil
}

var verificationStates = map[string]bool{"CREATED": true, "RUNNING": true, "COMPLETED": true, "FAILED": true}

// listVerificationJobs lists jobs newest first, without their lists of
// problems (DescribeVerificationJob gives them).
func (s *handlers) listVerificationJobs(r *http.Request, _ []byte) (any, error) {
	p, err := wire.Page(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	f := jobstore.VerificationJobFilter{VaultName: q.Get("backupVaultName"), State: q.Get("state")}
	if f.State != "" && !verificationStates[f.State] {
		return nil, wire.BadParam("state %q is not a verification job state (CREATED, RUNNING, COMPLETED, FAILED)", f.State)
	}
	jobs, tok, err := s.svc.ListVerificationJobs(r.Context(), f, p)
	if err != nil {
		return nil, err
	}
	out := make([]verificationJobJSON, 0, len(jobs))
	for _, j := range jobs {
		j.Problems = "" // the list stays with DescribeVerificationJob
		rep, err := s.svc.VerificationReportOf(j)
		if err != nil {
			return nil, err
		}
		out = append(out, s.toVerificationJobJSON(j, rep))
	}
	return wire.ListOut("VerificationJobs", out, tok), nil
}
