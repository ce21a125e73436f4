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

// TestFSVaultsKeepNoCache: with Config.CacheDir set, a vault on the
// data directory's file system keeps no local cache, neither under
// CacheDir nor in its own directory, after a backup and a restore whose
// reads kopia would once have copied into its content cache; the restore
// is whole.
func TestFSVaultsKeepNoCache(t *testing.T) {
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
	err = filepath.WalkDir(cacheDir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("cache file %s", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if matches, _ := filepath.Glob(filepath.Join(e.DataDir, "vaults", "*", "cache")); len(matches) != 0 {
		t.Errorf("vault directories still hold caches: %v", matches)
	}
}
