package service_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"

	bt "github.com/cofferbackup/coffer/internal/backup/backuptest"
	"github.com/cofferbackup/coffer/internal/coffertest"
	"github.com/cofferbackup/coffer/internal/restorejob"
	"github.com/cofferbackup/coffer/internal/service"
)

// TestCacheDirHoldsTheVaultCaches: with Config.CacheDir set, a vault's
// local caches (kopia's, filled by a restore's reads) are under
// CacheDir/<vault id> and not in the vault's own directory, and the
// restore from them is whole.
func TestCacheDirHoldsTheVaultCaches(t *testing.T) {
	cacheDir := t.TempDir()
	e := coffertest.Start(t, coffertest.Options{Configure: func(c *service.Config) { c.CacheDir = cacheDir }})
	mc := e.S3.Client(t)
	bucket := e.S3.NewBucket(t, true)
	coffertest.FillBucket(t, mc, bucket, "o/", 20, 3000)
	createVault(t, e.Client, "cached")
	job := startBackup(t, e.Client, "cached", bucket, 0)
	if j := e.WaitBackup(t, aws.ToString(job.BackupJobId)); j.State != types.BackupJobStateCompleted {
		t.Fatalf("backup %s: %q", j.State, aws.ToString(j.StatusMessage))
	}
	dest := bucket + "-r"
	rps, err := e.Client.ListRecoveryPointsByBackupVault(ctx, &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: aws.String("cached")})
	if err != nil || len(rps.RecoveryPoints) != 1 {
		t.Fatalf("recovery points: %v %v", rps, err)
	}
	r, err := e.Client.StartRestoreJob(ctx, &backup.StartRestoreJobInput{RecoveryPointArn: rps.RecoveryPoints[0].RecoveryPointArn,
		IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x"),
		Metadata:   map[string]string{restorejob.MetaDestinationBucket: dest, restorejob.MetaNewBucket: "true"}})
	if err != nil {
		t.Fatal(err)
	}
	if j := e.WaitRestore(t, aws.ToString(r.RestoreJobId)); j.Status != types.RestoreJobStatusCompleted {
		t.Fatalf("restore %s: %q", j.Status, aws.ToString(j.StatusMessage))
	}
	bt.Compare(t, bt.Histories(bt.Snapshot(t, mc, bucket)), bt.Histories(bt.Snapshot(t, mc, dest)))
	entries, err := os.ReadDir(cacheDir)
	if err != nil || len(entries) != 1 {
		t.Fatalf("cache dir holds %v (%v), want one vault's directory", entries, err)
	}
	contents, err := os.ReadDir(filepath.Join(cacheDir, entries[0].Name(), "contents"))
	if err != nil || len(contents) == 0 {
		t.Fatalf("no content cache under %s: %v", entries[0].Name(), err)
	}
	if matches, _ := filepath.Glob(filepath.Join(e.DataDir, "vaults", "*", "cache")); len(matches) != 0 {
		t.Errorf("vault directories still hold caches: %v", matches)
	}
}
