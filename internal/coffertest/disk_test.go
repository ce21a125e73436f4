package coffertest_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/minio/minio-go/v7"

	"github.com/cofferbackup/coffer/internal/coffertest"
	"github.com/cofferbackup/coffer/internal/testserver"
)

// TestVaultDiskFull: the vaults live on a real 48 MiB tmpfs. Filled up,
// a backup FAILS saying the disk is full, and nothing is lost: the earlier
// recovery point still restores byte for byte. Once space is back the
// same server backs up again, and both recovery points restore.
func TestVaultDiskFull(t *testing.T) {
	disk := coffertest.NewSmallDisk(t, 48<<20)
	dataDir := t.TempDir()
	if err := os.Symlink(disk.Dir, filepath.Join(dataDir, "vaults")); err != nil {
		t.Fatal(err)
	}
	srv := testserver.Shared(t, testserver.MinIO)
	e := coffertest.Start(t, coffertest.Options{S3: srv, DataDir: dataDir})
	mc := srv.Client(t)
	first, second := srv.NewBucket(t, true), srv.NewBucket(t, true)
	wantFirst := coffertest.FillBucket(t, mc, first, "a/", 20, 64<<10)
	wantSecond := fillRandom(t, mc, second, 8, 1<<20) // incompressible: it needs its 8 MiB
	if _, err := e.Client.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("small")}); err != nil {
		t.Fatal(err)
	}
	backupOf := func(bucket string) *backup.DescribeBackupJobOutput {
		t.Helper()
		bj, err := e.Client.StartBackupJob(ctx, &backup.StartBackupJobInput{BackupVaultName: aws.String("small"),
			ResourceArn: aws.String("arn:aws:s3:::" + bucket), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x")})
		if err != nil {
			t.Fatalf("StartBackupJob %s: %v", bucket, err)
		}
		return e.WaitBackup(t, aws.ToString(bj.BackupJobId))
	}
	rp1 := backupOf(first)
	if rp1.State != types.BackupJobStateCompleted {
		t.Fatalf("first backup: %s %q", rp1.State, aws.ToString(rp1.StatusMessage))
	}

	disk.Fill(t, 256<<10)
	t.Logf("disk filled: %d bytes free", disk.Free(t))
	full := backupOf(second)
	msg := aws.ToString(full.StatusMessage)
	t.Logf("backup on a full disk: %s %q", full.State, msg)
	if full.State != types.BackupJobStateFailed || !strings.Contains(msg, "no space left on device") {
		t.Errorf("backup on a full disk: %s %q, want FAILED saying no space is left", full.State, msg)
	}
	if aws.ToString(full.RecoveryPointArn) != "" {
		if _, err := e.Client.DescribeRecoveryPoint(ctx, &backup.DescribeRecoveryPointInput{BackupVaultName: aws.String("small"),
			RecoveryPointArn: full.RecoveryPointArn}); err == nil {
			t.Errorf("the failed backup left a recovery point %s", aws.ToString(full.RecoveryPointArn))
		}
	}
	coffertest.CheckBucket(t, mc, coffertest.RestoreToNewBucket(t, e.Client, aws.ToString(rp1.RecoveryPointArn)), wantFirst)

	disk.Empty(t)
	again := backupOf(second)
	if again.State != types.BackupJobStateCompleted {
		t.Fatalf("backup once space is back: %s %q", again.State, aws.ToString(again.StatusMessage))
	}
	coffertest.CheckBucket(t, mc, coffertest.RestoreToNewBucket(t, e.Client, aws.ToString(again.RecoveryPointArn)), wantSecond)
	coffertest.CheckBucket(t, mc, coffertest.RestoreToNewBucket(t, e.Client, aws.ToString(rp1.RecoveryPointArn)), wantFirst)
	if _, err := e.Service.MaintainVault(ctx, "small"); err != nil {
		t.Errorf("maintenance once space is back: %v", err)
	}
	e.Restart(t)
	coffertest.CheckBucket(t, mc, coffertest.RestoreToNewBucket(t, e.Client, aws.ToString(again.RecoveryPointArn)), wantSecond)
}

// fillRandom puts n objects of size random (incompressible) bytes.
func fillRandom(t *testing.T, mc *minio.Client, bucket string, n, size int) map[string][]byte {
	t.Helper()
	rnd := rand.NewChaCha8([32]byte{1})
	want := map[string][]byte{}
	for i := 0; i < n; i++ {
		data := make([]byte, size)
		_, _ = rnd.Read(data)
		key := fmt.Sprintf("r/%03d", i)
		if _, err := mc.PutObject(ctx, bucket, key, bytes.NewReader(data), int64(size), minio.PutObjectOptions{}); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
		want[key] = data
	}
	return want
}
