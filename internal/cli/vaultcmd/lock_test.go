package vaultcmd

import (
	"strings"
	"testing"

	"github.com/cofferbackup/coffer/internal/cli/clitest"
	"github.com/cofferbackup/coffer/internal/cli/jobcmd"
	"github.com/cofferbackup/coffer/internal/testserver"
)

// TestLockAndHoldCommands: coffer vault lock/unlock and coffer legal-hold
// drive the lock and hold APIs; a held recovery point's delete fails
// with the server's reason, and succeeds once the hold is cancelled.
func TestLockAndHoldCommands(t *testing.T) {
	endpoint, creds, s3 := clitest.StartServer(t)
	e := clitest.NewEnv(t, endpoint, creds)
	vault := testserver.UniqueBucketName("lockvault")
	e.Run("vault", "create", vault)
	_, errOut := e.Fail("vault", "lock", vault, "--min-days", "30", "--max-days", "7")
	if !strings.Contains(errOut, "MinRetentionDays") {
		t.Errorf("lock with min above max: stderr %q", errOut)
	}
	e.Run("vault", "lock", vault, "--min-days", "1", "--max-days", "30")
	if out := e.Run("vault", "describe", vault); !strings.Contains(out, "Locked:") || !strings.Contains(out, "Max retention days: 30") {
		t.Errorf("vault describe after lock:\n%s", out)
	}
	e.Run("vault", "unlock", vault)

	src := s3.NewBucket(t, true)
	clitest.PutObjects(t, s3.Client(t), src, map[string]string{"a.txt": "a"})
	job := clitest.BackupAndWait(t, e, vault, src, jobcmd.DefaultIAMRoleARN)
	var hold struct{ LegalHoldId, Status string }
	e.RunJSON(&hold, "legal-hold", "create", "--title", "case 1", "--description", "keep", "--vault", vault)
	if hold.Status != "ACTIVE" || hold.LegalHoldId == "" {
		t.Fatalf("legal-hold create: %+v", hold)
	}
	if out := e.Run("legal-hold", "recovery-points", hold.LegalHoldId); !strings.Contains(out, job.RecoveryPointArn) {
		t.Errorf("legal-hold recovery-points lacks %s:\n%s", job.RecoveryPointArn, out)
	}
	if out := e.Run("legal-hold", "list"); !strings.Contains(out, hold.LegalHoldId) || !strings.Contains(out, "ACTIVE") {
		t.Errorf("legal-hold list:\n%s", out)
	}
	_, errOut = e.Fail("recovery-point", "delete", "--vault", vault, job.RecoveryPointArn)
	if !strings.Contains(errOut, "legal hold") {
		t.Errorf("delete of a held recovery point: stderr %q", errOut)
	}
	e.Run("legal-hold", "cancel", hold.LegalHoldId, "--description", "done")
	if out := e.Run("legal-hold", "describe", hold.LegalHoldId); !strings.Contains(out, "CANCELED") {
		t.Errorf("legal-hold describe after cancel:\n%s", out)
	}
	e.Run("recovery-point", "delete", "--vault", vault, job.RecoveryPointArn)
}
