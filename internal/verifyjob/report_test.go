package verifyjob

import (
	"errors"
	"strings"
	"testing"

	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/vaultverify"
	"github.com/cofferbackup/coffer/internal/vocab"
)

func newForReports(key byte) *Verifications {
	k := make([]byte, 32)
	k[0] = key
	return &Verifications{cfg: Config{SealKey: k, Names: vocab.Names{Region: "us-east-1", AccountID: "000000000000"}}}
}

// TestReportSealed: a report's problems are sealed in the catalog row (no
// problem's text in clear, bound to the job and the key) and come back
// whole, with ARNs; a row sealed under another key or for another job, or
// damaged, does not open.
func TestReportSealed(t *testing.T) {
	t.Parallel()
	v := newForReports(1)
	rep := vaultverify.Report{RecoveryPoints: 2, ProblemCount: 1, ProblemKinds: map[string]int64{vaultverify.ProblemUnreadable: 1},
		AffectedRecoveryPoints: []string{"rp-2"},
		Problems:               []vaultverify.Problem{{Kind: vaultverify.ProblemUnreadable, RecoveryPointID: "rp-2", Record: 3, Detail: "decrypt failed here"}}}
	j := jobstore.VerificationJob{ID: "job-1"}
	if err := v.record(&j, rep); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(j.Problems, "decrypt") || strings.Contains(j.Stats, "decrypt") || !strings.HasPrefix(j.Problems, "v1:") {
		t.Fatalf("row in clear: stats %s problems %s", j.Stats, j.Problems)
	}
	got, err := v.Report(j)
	wantARN := v.cfg.Names.RecoveryPointARN("rp-2")
	if err != nil || got.OK() || got.RecoveryPoints != 2 || len(got.AffectedRecoveryPoints) != 1 || got.AffectedRecoveryPoints[0] != wantARN ||
		len(got.Problems) != 1 || got.Problems[0].RecoveryPointArn != wantARN || got.Problems[0].Detail != "decrypt failed here" || got.Problems[0].Record != 3 {
		t.Fatalf("report: %+v %v", got, err)
	}
	tests := []struct {
		name string
		v    *Verifications
		j    jobstore.VerificationJob
	}{
		{"another key", newForReports(2), j},
		{"another job", v, jobstore.VerificationJob{ID: "job-2", Stats: j.Stats, Problems: j.Problems}},
		{"damaged", v, jobstore.VerificationJob{ID: j.ID, Stats: j.Stats, Problems: j.Problems[:len(j.Problems)-4] + "AAAA"}},
		{"not sealed", v, jobstore.VerificationJob{ID: j.ID, Stats: j.Stats, Problems: "[]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.v.Report(tt.j); !errors.Is(err, errDamaged) {
				t.Fatalf("Report = %v, want errDamaged", err)
			}
		})
	}
	clean := jobstore.VerificationJob{ID: "job-3"}
	if err := v.record(&clean, vaultverify.Report{RecoveryPoints: 1}); err != nil || clean.Problems != "" {
		t.Fatalf("clean report: %q %v", clean.Problems, err)
	}
}
