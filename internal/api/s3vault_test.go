package api_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/minio/minio-go/v7"

	"github.com/cofferbackup/coffer/internal/coffertest"
	"github.com/cofferbackup/coffer/internal/service"
	"github.com/cofferbackup/coffer/internal/testserver"
)

// TestS3VaultWithObjectLock: a vault whose data lives in a MinIO bucket
// with Object Lock: a location whose bucket is missing is refused and
// leaves nothing; backups restore byte for byte; no version of the
// vault's blobs can be deleted through the S3 API; a new server with
// only the master key (and the connection) attaches the vault from the
// bucket and restores it.
func TestS3VaultWithObjectLock(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{Configure: func(c *service.Config) { c.ObjectLockDays = 3 }})
	c, mc := e.Client, e.S3.Client(t)
	lockBucket := e.S3.NewBucketWith(t, testserver.BucketOptions{ObjectLock: true})

	status, body := extension(t, e, http.MethodPut, "/backup-vaults/nowhere", map[string]any{"StorageLocation": "s3://default/no-such-bucket-here/x"})
	if status/100 == 2 || !strings.Contains(string(body), "InvalidParameterValueException") {
		t.Fatalf("vault in a missing bucket: %d %s", status, body)
	}
	if _, err := c.DescribeBackupVault(ctx, &backup.DescribeBackupVaultInput{BackupVaultName: aws.String("nowhere")}); apiCode(err) != "ResourceNotFoundException" {
		t.Fatalf("the refused vault exists: %v", err)
	}

	status, body = extension(t, e, http.MethodPut, "/backup-vaults/s3v", map[string]any{"StorageLocation": "s3://default/" + lockBucket + "/coffer"})
	if status != http.StatusOK {
		t.Fatalf("create: %d %s", status, body)
	}
	var created struct{ StorageLocation string }
	if err := json.Unmarshal(body, &created); err != nil {
		t.Fatal(err)
	}
	loc := created.StorageLocation
	if !strings.HasPrefix(loc, "s3://default/"+lockBucket+"/coffer/v-") {
		t.Fatalf("StorageLocation %q", loc)
	}
	src := e.S3.NewBucket(t, true)
	want := coffertest.FillBucket(t, mc, src, "s/", 5, 3000)
	rp := backupOn(t, e, "s3v", "arn:aws:s3:::"+src)
	coffertest.CheckBucket(t, mc, coffertest.RestoreToNewBucket(t, c, rp), want)
	// Ten days of retention, beyond the 3-day rolling lock: maintenance
	// must lock every blob until then.
	ten := backupWithDays(t, e, "s3v", "arn:aws:s3:::"+src, 10)

	prefix := strings.TrimPrefix(loc, "s3://default/"+lockBucket+"/") + "/"
	n := 0
	for o := range mc.ListObjects(ctx, lockBucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true, WithVersions: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		if strings.HasPrefix(strings.TrimPrefix(o.Key, prefix), "s") {
			continue // kopia's session markers, which no reader needs
		}
		n++
		if err := mc.RemoveObject(ctx, lockBucket, o.Key, minio.RemoveObjectOptions{VersionID: o.VersionID}); err == nil {
			t.Errorf("version %s of %s was deleted through the S3 API", o.VersionID, o.Key)
		}
	}
	if n < 4 {
		t.Fatalf("%d locked blobs under %s", n, prefix)
	}

	// Maintenance runs on the S3 vault (it extends the blobs' retention)
	// and leaves it restorable.
	status, body = extension(t, e, http.MethodPut, "/maintenance-jobs", map[string]any{"BackupVaultName": "s3v"})
	var mj struct{ MaintenanceJobId, State string }
	if err := json.Unmarshal(body, &mj); status != http.StatusOK || err != nil {
		t.Fatalf("start maintenance: %d %s", status, body)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for mj.State != "COMPLETED" {
		if mj.State == "FAILED" || mj.State == "ABORTED" || time.Now().After(deadline) {
			t.Fatalf("maintenance of the S3 vault: %s", body)
		}
		time.Sleep(100 * time.Millisecond)
		_, body = extension(t, e, http.MethodGet, "/maintenance-jobs/"+mj.MaintenanceJobId, nil)
		if err := json.Unmarshal(body, &mj); err != nil {
			t.Fatal(err)
		}
	}
	coffertest.CheckBucket(t, mc, coffertest.RestoreToNewBucket(t, c, rp), want)
	coffertest.CheckBucket(t, mc, coffertest.RestoreToNewBucket(t, c, ten), want)
	locked := 0
	for o := range mc.ListObjects(ctx, lockBucket, minio.ListObjectsOptions{Prefix: prefix + "p", Recursive: true, WithVersions: true}) {
		if o.Err != nil || o.IsDeleteMarker {
			continue
		}
		_, until, err := mc.GetObjectRetention(ctx, lockBucket, o.Key, o.VersionID)
		if err != nil {
			t.Fatal(err)
		}
		if until == nil || until.Before(time.Now().Add(9*24*time.Hour)) {
			t.Errorf("pack %s locked until %v; want past the 10-day recovery point's DeleteAt", o.Key, until)
		}
		locked++
	}
	if locked == 0 {
		t.Fatal("no pack blob of the vault found")
	}

	// A new server: only the master key is carried over.
	dir := t.TempDir()
	key, err := os.ReadFile(filepath.Join(e.DataDir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "master.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	e2 := coffertest.Start(t, coffertest.Options{DataDir: dir, S3: e.S3})
	status, body = extension(t, e2, http.MethodPut, "/backup-vault-attachments", map[string]any{"StorageLocation": loc})
	if status != http.StatusOK || !strings.Contains(string(body), `"RecoveryPointsAttached":2`) {
		t.Fatalf("attach on a new server: %d %s", status, body)
	}
	j, err := e2.Client.DescribeRecoveryPoint(ctx, &backup.DescribeRecoveryPointInput{BackupVaultName: aws.String("s3v"), RecoveryPointArn: aws.String(rp)})
	if err != nil || j.Status != types.RecoveryPointStatusCompleted {
		t.Fatalf("recovery point on the new server: %v", err)
	}
	coffertest.CheckBucket(t, mc, coffertest.RestoreToNewBucket(t, e2.Client, rp), want)
}

// backupWithDays backs resource up into vaultName, kept days days.
func backupWithDays(t *testing.T, e *coffertest.Env, vaultName, resource string, days int64) string {
	t.Helper()
	out, err := e.Client.StartBackupJob(ctx, &backup.StartBackupJobInput{BackupVaultName: aws.String(vaultName),
		ResourceArn: aws.String(resource), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x"),
		Lifecycle: &types.Lifecycle{DeleteAfterDays: aws.Int64(days)}})
	if err != nil {
		t.Fatal(err)
	}
	if j := e.WaitBackup(t, aws.ToString(out.BackupJobId)); j.State != types.BackupJobStateCompleted {
		t.Fatalf("backup of %s: %s %q", resource, j.State, aws.ToString(j.StatusMessage))
	}
	return aws.ToString(out.RecoveryPointArn)
}
