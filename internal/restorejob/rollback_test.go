package restorejob_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/minio/minio-go/v7"

	"github.com/cofferbackup/coffer/internal/coffertest"
	"github.com/cofferbackup/coffer/internal/service"
)

// TestRollbackResumesAfterStop: a rollback job that coffer's stop
// interrupts runs again after the restart (as a resumed restore) and
// converges: what was already rolled back (here a key deleted meanwhile,
// as the interrupted run would have) is left alone, the rest is written.
func TestRollbackResumesAfterStop(t *testing.T) {
	var calls atomic.Int32
	running := make(chan struct{})
	hooks := &service.TestHooks{RestoreRunning: func(ctx context.Context, _ string) {
		if calls.Add(1) == 1 {
			close(running)
			<-ctx.Done() // held RUNNING until coffer stops
		}
	}}
	e := coffertest.Start(t, coffertest.Options{TestHooks: hooks})
	mc := e.S3.Client(t)
	bucket := e.S3.NewBucket(t, true)
	want := coffertest.FillBucket(t, mc, bucket, "k/", 6, 3000)
	if _, err := e.Client.CreateBackupVault(context.Background(), &backup.CreateBackupVaultInput{BackupVaultName: aws.String("vault")}); err != nil {
		t.Fatal(err)
	}
	b := coffertest.StartBackup(t, e.Client, "vault", bucket)
	if j := e.WaitBackup(t, aws.ToString(b.BackupJobId)); j.State != types.BackupJobStateCompleted {
		t.Fatalf("backup: %s %s", j.State, aws.ToString(j.StatusMessage))
	}
	coffertest.FillBucket(t, mc, bucket, "k/", 3, 100) // overwrites k/000000..k/000002
	coffertest.FillBucket(t, mc, bucket, "extra/", 1, 10)

	rj, err := e.Client.StartRestoreJob(context.Background(), &backup.StartRestoreJobInput{RecoveryPointArn: b.RecoveryPointArn,
		Metadata: map[string]string{"RestoreMode": "rollback"}})
	if err != nil {
		t.Fatal(err)
	}
	<-running
	if err := mc.RemoveObject(context.Background(), bucket, "extra/000000", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	e.Restart(t)
	j := e.WaitRestore(t, aws.ToString(rj.RestoreJobId))
	if j.Status != types.RestoreJobStatusCompleted || calls.Load() != 2 {
		t.Fatalf("rollback after a clean restart: %s %q, ran %d times", j.Status, aws.ToString(j.StatusMessage), calls.Load())
	}
	msg := aws.ToString(j.StatusMessage)
	if !strings.Contains(msg, "wrote 3 objects as new current versions") || !strings.Contains(msg, "put 0 delete markers") ||
		!strings.Contains(msg, "3 objects were already as in the recovery point") {
		t.Errorf("status message %q", msg)
	}
	if aws.ToString(j.CreatedResourceArn) != "arn:aws:s3:::"+bucket {
		t.Errorf("created resource %q", aws.ToString(j.CreatedResourceArn))
	}
	coffertest.CheckBucket(t, mc, bucket, want)
}
