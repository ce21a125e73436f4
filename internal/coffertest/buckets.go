package coffertest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/minio/minio-go/v7"

	"github.com/cofferbackup/coffer/internal/testserver"
)

// FillBucket puts n objects of size bytes under prefix, 16 at a time, and
// returns their contents by key. Each object's bytes are distinct.
func FillBucket(t testing.TB, mc *minio.Client, bucket, prefix string, n, size int) map[string][]byte {
	t.Helper()
	want := make(map[string][]byte, n)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("%s%06d", prefix, i)
		unit := []byte(key + "|")
		data := bytes.Repeat(unit, size/len(unit)+1)[:size]
		want[key] = data
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if _, err := mc.PutObject(context.Background(), bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
				mu.Lock()
				firstErr = fmt.Errorf("put %s/%s: %w", bucket, key, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
	return want
}

// CheckBucket fails the test unless bucket's current objects are exactly
// want, byte for byte.
func CheckBucket(t testing.TB, mc *minio.Client, bucket string, want map[string][]byte) {
	t.Helper()
	ctx := context.Background()
	n := 0
	for o := range mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatalf("list %s: %v", bucket, o.Err)
		}
		data, ok := want[o.Key]
		if !ok {
			t.Fatalf("%s: unexpected key %q", bucket, o.Key)
		}
		obj, err := mc.GetObject(ctx, bucket, o.Key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(obj)
		obj.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%s: %q differs (read error %v)", bucket, o.Key, err)
		}
		n++
	}
	if n != len(want) {
		t.Fatalf("%s holds %d objects, want %d", bucket, n, len(want))
	}
}

// RestoreToNewBucket restores a recovery point into a new bucket, waits for
// the job to complete and returns the bucket's name.
func RestoreToNewBucket(t testing.TB, c *backup.Client, rpARN string) string {
	t.Helper()
	dest, id := StartRestoreToNewBucket(t, c, rpARN, nil)
	if out := WaitRestoreJob(t, c, id); out.Status != types.RestoreJobStatusCompleted {
		t.Fatalf("restore of %s: %s %s", rpARN, out.Status, aws.ToString(out.StatusMessage))
	}
	return dest
}

// StartRestoreToNewBucket starts a restore of a recovery point into a new
// bucket, with meta added to the restore metadata (ItemsToRestore,
// RestoreLatestVersionsUpTo, ...), and returns the bucket's name and the
// job's id without waiting.
func StartRestoreToNewBucket(t testing.TB, c *backup.Client, rpARN string, meta map[string]string) (dest, jobID string) {
	t.Helper()
	dest = testserver.UniqueBucketName("restored")
	md := map[string]string{"DestinationBucketName": dest, "NewBucket": "true"}
	for k, v := range meta {
		md[k] = v
	}
	rj, err := c.StartRestoreJob(context.Background(), &backup.StartRestoreJobInput{RecoveryPointArn: aws.String(rpARN),
		IamRoleArn: aws.String("arn:aws:iam::000000000000:role/coffertest"), Metadata: md})
	if err != nil {
		t.Fatalf("StartRestoreJob %s: %v", rpARN, err)
	}
	return dest, aws.ToString(rj.RestoreJobId)
}

// StartBackup starts an on-demand backup of bucket into vault.
func StartBackup(t testing.TB, c *backup.Client, vault, bucket string) *backup.StartBackupJobOutput {
	t.Helper()
	out, err := c.StartBackupJob(context.Background(), &backup.StartBackupJobInput{BackupVaultName: aws.String(vault),
		ResourceArn: aws.String("arn:aws:s3:::" + bucket), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/coffertest")})
	if err != nil {
		t.Fatalf("StartBackupJob %s into %s: %v", bucket, vault, err)
	}
	return out
}

// RemoveBucket deletes every version and delete marker of bucket, then the
// bucket (tests that make many buckets free their space).
func RemoveBucket(t testing.TB, mc *minio.Client, bucket string) {
	t.Helper()
	ctx := context.Background()
	for o := range mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{WithVersions: true, Recursive: true}) {
		if o.Err != nil {
			t.Fatalf("list %s: %v", bucket, o.Err)
		}
		if err := mc.RemoveObject(ctx, bucket, o.Key, minio.RemoveObjectOptions{VersionID: o.VersionID}); err != nil {
			t.Fatalf("remove %s/%q version %s: %v", bucket, o.Key, o.VersionID, err)
		}
	}
	if err := mc.RemoveBucket(ctx, bucket); err != nil {
		t.Fatalf("remove bucket %s: %v", bucket, err)
	}
}

// WaitRestoreJob polls a restore job until it reaches a final state.
func WaitRestoreJob(t testing.TB, c *backup.Client, id string) *backup.DescribeRestoreJobOutput {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		out, err := c.DescribeRestoreJob(context.Background(), &backup.DescribeRestoreJobInput{RestoreJobId: aws.String(id)})
		if err != nil {
			t.Fatalf("DescribeRestoreJob %s: %v", id, err)
		}
		switch out.Status {
		case types.RestoreJobStatusCompleted, types.RestoreJobStatusFailed, types.RestoreJobStatusAborted:
			return out
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("restore job %s did not finish in time", id)
	return nil
}

// WaitBackupJob polls a backup job until it reaches a final state.
func WaitBackupJob(t testing.TB, c *backup.Client, id string) *backup.DescribeBackupJobOutput {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		out, err := c.DescribeBackupJob(context.Background(), &backup.DescribeBackupJobInput{BackupJobId: aws.String(id)})
		if err != nil {
			t.Fatalf("DescribeBackupJob %s: %v", id, err)
		}
		switch out.State {
		case types.BackupJobStateCompleted, types.BackupJobStatePartial, types.BackupJobStateFailed,
			types.BackupJobStateAborted, types.BackupJobStateExpired:
			return out
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("backup job %s did not finish in time", id)
	return nil
}
