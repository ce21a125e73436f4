package service_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/cofferbackup/coffer/internal/coffertest"
	"github.com/cofferbackup/coffer/internal/service"
	"github.com/cofferbackup/coffer/internal/testserver"
)

// TestTakeoverFindsCommittedRecoveryPoint: a process falls silent (dies,
// for the others) after its backup's recovery point is committed to the
// vault and before the catalog records it. A live process's periodic
// takeover (not its start-up reconciliation, which also would) finds the
// recovery point in the vault, records it and completes the job without
// running it again (a second run would write a second copy of the same
// recovery point); the recovery point restores byte for byte.
func TestTakeoverFindsCommittedRecoveryPoint(t *testing.T) {
	base := coffertest.Database(t, "postgres")
	dir := t.TempDir()
	held, release := make(chan string, 1), make(chan struct{})
	t.Cleanup(func() { close(release) })
	hooks := &service.TestHooks{BackupCommitted: func(ctx context.Context, id string) {
		held <- id
		select {
		case <-release:
		case <-ctx.Done():
		}
	}}
	// Both processes beat once at start and then fall silent: each is
	// dead to the other after DeadAfter. Whichever runs the backup is
	// held after its commit; the other one's takeover must settle it.
	configure := func(c *service.Config) {
		c.HeartbeatInterval, c.DeadAfter, c.TakeoverInterval = time.Hour, 2*time.Second, -1
	}
	a := coffertest.Start(t, coffertest.Options{Database: base, DataDir: dir, TestHooks: hooks, Configure: configure})
	b := coffertest.Start(t, coffertest.Options{Database: base, DataDir: dir, TestHooks: hooks, Configure: configure, S3: a.S3})
	mc := a.S3.Client(t)
	bucket := a.S3.NewBucket(t, true)
	want := coffertest.FillBucket(t, mc, bucket, "k/", 20, 10000)
	createVault(t, a.Client, "dying")
	started := startBackup(t, a.Client, "dying", bucket, 0)
	var id string
	select {
	case id = <-held:
	case <-time.After(time.Minute):
		t.Fatal("the backup never committed its recovery point")
	}
	// The holder's own pass leaves its job alone (it still runs it).
	deadline := time.Now().Add(30 * time.Second)
	for {
		j, err := b.Service.BackupJob(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if j.State != service.StateRunning {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %s after 30 s of takeover passes", id, j.State)
		}
		for _, e := range []*coffertest.Env{a, b} {
			if _, err := e.Service.TakeOver(ctx); err != nil {
				t.Fatalf("takeover: %v", err)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	j := b.WaitBackup(t, id)
	cj, err := b.Service.JobStore().BackupJob(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if j.State != types.BackupJobStateCompleted || !strings.Contains(aws.ToString(j.StatusMessage), "before the job was recorded as done") || cj.Run != 0 {
		t.Fatalf("job after takeover: %s %q (run %d), want COMPLETED from the committed recovery point, not run again",
			j.State, aws.ToString(j.StatusMessage), cj.Run+1)
	}
	rp, err := b.Client.DescribeRecoveryPoint(ctx, &backup.DescribeRecoveryPointInput{BackupVaultName: aws.String("dying"),
		RecoveryPointArn: started.RecoveryPointArn})
	if err != nil || rp.Status != types.RecoveryPointStatusCompleted {
		t.Fatalf("recovery point after takeover: %v %v", rp, err)
	}
	dest := testserver.UniqueBucketName("taken")
	r, err := b.Client.StartRestoreJob(ctx, &backup.StartRestoreJobInput{RecoveryPointArn: started.RecoveryPointArn,
		IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x"),
		Metadata:   map[string]string{"DestinationBucketName": dest, "NewBucket": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	if out := coffertest.WaitRestoreJob(t, b.Client, aws.ToString(r.RestoreJobId)); out.Status != types.RestoreJobStatusCompleted {
		t.Fatalf("restore: %s %q", out.Status, aws.ToString(out.StatusMessage))
	}
	coffertest.CheckBucket(t, mc, dest, want)
}
