package plan

import (
	"errors"
	"strings"
	"testing"

	"github.com/cofferbackup/coffer/internal/vocab"
)

// TestBoundErrors: a rule's out-of-bound duration is a plan error and an
// invalid parameter, and says "invalid parameter" at most once.
func TestBoundErrors(t *testing.T) {
	days := func(n int64) *int64 { return &n }
	for _, tt := range []struct {
		name string
		rule Rule
	}{
		{"retention", Rule{RuleName: "r", TargetBackupVaultName: "v", Lifecycle: &Lifecycle{DeleteAfterDays: days(200000)}}},
		{"start window", Rule{RuleName: "r", TargetBackupVaultName: "v", StartWindowMinutes: days(10)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := Document{BackupPlanName: "p", Rules: []Rule{tt.rule}}
			err := d.Validate(nil)
			if !errors.Is(err, ErrInvalid) || !errors.Is(err, vocab.ErrInvalidParameter) {
				t.Fatalf("Validate = %v, want ErrInvalid and ErrInvalidParameter", err)
			}
			if n := strings.Count(err.Error(), vocab.ErrInvalidParameter.Error()); n > 0 {
				t.Errorf("message %q says %q %d times; the caller adds it", err, vocab.ErrInvalidParameter, n)
			}
		})
	}
}
