package jobcmd

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"

	"github.com/cofferbackup/coffer/internal/cli/clitest"
	"github.com/cofferbackup/coffer/internal/coffertest"
)

// TestCopyCommands: coffer copy start (destination by name, --wait),
// list and describe.
func TestCopyCommands(t *testing.T) {
	env := coffertest.Start(t, coffertest.Options{})
	e := clitest.NewEnvFor(t, env)
	mc := env.S3.Client(t)
	src := env.S3.NewBucket(t, true)
	want := coffertest.FillBucket(t, mc, src, "c/", 5, 300)
	e.Run("vault", "create", "here")
	e.Run("vault", "create", "there")
	var job clitest.JobJSON
	e.RunJSON(&job, "backup", "start", "--vault", "here", "--bucket", src, "--wait")
	if job.State != "COMPLETED" {
		t.Fatalf("backup: %+v", job)
	}
	var cp struct {
		CopyJob struct{ CopyJobId, State, StatusMessage, DestinationRecoveryPointArn string }
	}
	e.RunJSON(&cp, "copy", "start", "--recovery-point", job.RecoveryPointArn, "--source-vault", "here",
		"--destination-vault", "there", "--delete-after-days", "3", "--wait")
	if cp.CopyJob.State != "COMPLETED" || cp.CopyJob.DestinationRecoveryPointArn == "" {
		t.Fatalf("copy start --wait: %+v", cp)
	}
	coffertest.CheckBucket(t, mc, coffertest.RestoreToNewBucket(t, env.Client, cp.CopyJob.DestinationRecoveryPointArn), want)
	rp, err := env.Client.DescribeRecoveryPoint(context.Background(), &backup.DescribeRecoveryPointInput{BackupVaultName: aws.String("there"),
		RecoveryPointArn: aws.String(cp.CopyJob.DestinationRecoveryPointArn)})
	if err != nil || aws.ToInt64(rp.Lifecycle.DeleteAfterDays) != 3 {
		t.Fatalf("the copy: %+v %v", rp, err)
	}
	if out := e.Run("copy", "list", "--state", "COMPLETED"); !strings.Contains(out, cp.CopyJob.CopyJobId) {
		t.Errorf("copy list:\n%s", out)
	}
	if out := e.Run("copy", "list", "--state", "FAILED"); strings.Contains(out, cp.CopyJob.CopyJobId) {
		t.Errorf("copy list --state FAILED:\n%s", out)
	}
	out := e.Run("copy", "describe", cp.CopyJob.CopyJobId)
	for _, w := range []string{"COMPLETED", job.RecoveryPointArn, cp.CopyJob.DestinationRecoveryPointArn, ":backup-vault:there"} {
		if !strings.Contains(out, w) {
			t.Errorf("copy describe lacks %q:\n%s", w, out)
		}
	}
	if _, errOut := e.Fail("copy", "start", "--recovery-point", job.RecoveryPointArn, "--source-vault", "here", "--destination-vault", "nowhere"); !strings.Contains(errOut, "nowhere") {
		t.Errorf("copy to a missing vault: %q", errOut)
	}
	e.Fail("copy", "start", "--source-vault", "here", "--destination-vault", "there")
}
