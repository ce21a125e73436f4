package api_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/coffertest"
)

// TestDeleteVaultWhoseFilesVanished: DeleteBackupVault finishes a vault
// whose directory was removed (its recovery points' rows go with it),
// before and after a restart, but never drops a vault whose directory is
// there and cannot be read (a link to a disk not mounted, a file in its
// place): the vault store says "not there" only for the first.
func TestDeleteVaultWhoseFilesVanished(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{})
	c := e.Client
	bucket := e.S3.NewBucket(t, true)
	coffertest.FillBucket(t, e.S3.Client(t), bucket, "g/", 2, 10)
	type vaultCase struct {
		name       string
		withRP     bool
		damage     func(t *testing.T, dir string)
		afterStart bool // damaged, then the server restarted before the delete
		deleted    bool // DeleteBackupVault succeeds
	}
	removeAll := func(t *testing.T, dir string) {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
	}
	cases := []vaultCase{
		{"gone-open", true, removeAll, false, true},
		{"gone-restarted", true, removeAll, true, true},
		{"gone-empty", false, removeAll, true, true},
		{"unmounted-link", true, func(t *testing.T, dir string) {
			// Moved to a disk that is not mounted now.
			moveAside(t, dir)
			if err := os.Symlink(filepath.Join(t.TempDir(), "not-mounted", filepath.Base(dir)), dir); err != nil {
				t.Fatal(err)
			}
		}, true, false},
		{"file-in-place", false, func(t *testing.T, dir string) {
			moveAside(t, dir)
			if err := os.WriteFile(dir, []byte("not a vault"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, true, false},
	}
	rps := map[string]string{}
	dirs := map[string]string{}
	for _, tc := range cases {
		if _, err := c.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String(tc.name), BackupVaultTags: map[string]string{"k": "v"}}); err != nil {
			t.Fatal(err)
		}
		if tc.withRP {
			job, err := c.StartBackupJob(ctx, &backup.StartBackupJobInput{BackupVaultName: aws.String(tc.name), ResourceArn: aws.String("arn:aws:s3:::" + bucket),
				IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x"), RecoveryPointTags: map[string]string{"rp": "1"}})
			if err != nil {
				t.Fatal(err)
			}
			if j := e.WaitBackup(t, aws.ToString(job.BackupJobId)); j.State != types.BackupJobStateCompleted {
				t.Fatalf("backup into %s: %s", tc.name, j.State)
			}
			rps[tc.name] = aws.ToString(job.RecoveryPointArn)
		}
		v, err := e.Service.Catalog().Vault(ctx, tc.name)
		if err != nil {
			t.Fatal(err)
		}
		dirs[tc.name] = filepath.Join(e.DataDir, "vaults", v.ID)
	}
	check := func(tc vaultCase) {
		t.Helper()
		_, err := c.DeleteBackupVault(ctx, &backup.DeleteBackupVaultInput{BackupVaultName: aws.String(tc.name)})
		if tc.deleted != (err == nil) {
			t.Errorf("%s: DeleteBackupVault: %v, want deleted=%v", tc.name, err, tc.deleted)
		}
		_, derr := c.DescribeBackupVault(ctx, &backup.DescribeBackupVaultInput{BackupVaultName: aws.String(tc.name)})
		if tc.deleted != (apiCode(derr) == "ResourceNotFoundException") {
			t.Errorf("%s: DescribeBackupVault after the delete: %v", tc.name, derr)
		}
		db := e.Service.Catalog()
		vaultARN := "arn:aws:backup:us-east-1:000000000000:backup-vault:" + tc.name
		if tags, err := db.Tags(ctx, vaultARN); err != nil || (len(tags) == 0) != tc.deleted {
			t.Errorf("%s: vault tags %v (%v)", tc.name, tags, err)
		}
		if arn := rps[tc.name]; arn != "" {
			_, err := db.RecoveryPointByARN(ctx, arn)
			if tc.deleted != errors.Is(err, catalog.ErrNotFound) {
				t.Errorf("%s: recovery point row: %v, want gone=%v", tc.name, err, tc.deleted)
			}
			if tags, err := db.Tags(ctx, arn); err != nil || (len(tags) == 0) != tc.deleted {
				t.Errorf("%s: recovery point tags %v (%v)", tc.name, tags, err)
			}
		}
	}
	for _, tc := range cases {
		if !tc.afterStart {
			tc.damage(t, dirs[tc.name])
			check(tc)
		}
	}
	for _, tc := range cases {
		if tc.afterStart {
			tc.damage(t, dirs[tc.name])
		}
	}
	e.Restart(t)
	for _, tc := range cases {
		if tc.afterStart {
			check(tc)
		}
	}
	// The name is free again.
	if _, err := c.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("gone-restarted")}); err != nil {
		t.Errorf("create a vault under the name of the deleted one: %v", err)
	}
}

// moveAside keeps a vault's files out of the way (as on a disk not mounted).
func moveAside(t *testing.T, dir string) {
	t.Helper()
	if err := os.Rename(dir, filepath.Join(t.TempDir(), filepath.Base(dir))); err != nil {
		t.Fatal(err)
	}
}
