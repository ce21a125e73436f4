package restorejob_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/cofferbackup/coffer/internal/coffertest"
	"github.com/cofferbackup/coffer/internal/service"
	"github.com/cofferbackup/coffer/internal/testserver"
)

func TestMain(m *testing.M) { testserver.Main(m) }

// TestCleanStopResumesRestore: a restore running when coffer stops cleanly
// (SIGTERM, a restart) is queued again and resumes after the restart, as a
// backup runs again; it used to end FAILED ("start the restore again")
// while a killed process's restore was resumed.
func TestCleanStopResumesRestore(t *testing.T) {
	for _, engine := range coffertest.Engines {
		t.Run(engine, func(t *testing.T) {
			db := coffertest.Database(t, engine)
			var calls atomic.Int32
			running := make(chan struct{})
			hooks := &service.TestHooks{RestoreRunning: func(ctx context.Context, _ string) {
				if calls.Add(1) == 1 {
					close(running)
					<-ctx.Done() // held RUNNING until coffer stops
				}
			}}
			e := coffertest.Start(t, coffertest.Options{Database: db, TestHooks: hooks})
			mc := e.S3.Client(t)
			bucket := e.S3.NewBucket(t, true)
			want := coffertest.FillBucket(t, mc, bucket, "k/", 20, 3000)
			if _, err := e.Client.CreateBackupVault(context.Background(), &backup.CreateBackupVaultInput{BackupVaultName: aws.String("vault")}); err != nil {
				t.Fatal(err)
			}
			b := coffertest.StartBackup(t, e.Client, "vault", bucket)
			if j := e.WaitBackup(t, aws.ToString(b.BackupJobId)); j.State != types.BackupJobStateCompleted {
				t.Fatalf("backup: %s %s", j.State, aws.ToString(j.StatusMessage))
			}
			dest, id := coffertest.StartRestoreToNewBucket(t, e.Client, aws.ToString(b.RecoveryPointArn), nil)
			<-running
			e.Restart(t)
			j := e.WaitRestore(t, id)
			if j.Status != types.RestoreJobStatusCompleted {
				t.Fatalf("restore after a clean restart: %s %q", j.Status, aws.ToString(j.StatusMessage))
			}
			if calls.Load() != 2 {
				t.Fatalf("restore ran %d times, want 2", calls.Load())
			}
			if msg := aws.ToString(j.StatusMessage); !strings.Contains(msg, "restored 20 objects") {
				t.Errorf("status message %q", msg)
			}
			coffertest.CheckBucket(t, mc, dest, want)
		})
	}
}
