package restore_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	bt "github.com/cofferbackup/coffer/internal/backup/backuptest"
	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/restore"
	"github.com/cofferbackup/coffer/internal/s3source"
	"github.com/cofferbackup/coffer/internal/testserver"
	"github.com/cofferbackup/coffer/internal/vault"
)

func putString(t *testing.T, mc *minio.Client, bucket, key, body string) {
	t.Helper()
	if _, err := mc.PutObject(context.Background(), bucket, key, strings.NewReader(body), int64(len(body)), minio.PutObjectOptions{}); err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
}

func latest(t *testing.T, mc *minio.Client, bucket, key string) string {
	t.Helper()
	obj, err := mc.GetObject(context.Background(), bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("read %s/%s: %v", bucket, key, err)
	}
	return string(b)
}

// backedUp makes a versioned bucket with a (2 versions), b and c, backs it
// up and returns the source client, vault and manifest.
func backedUp(t *testing.T, srv *testserver.Server) (*s3source.Client, *vault.Vault, recpoint.Manifest) {
	mc := srv.Client(t)
	bucket := srv.NewBucket(t, true)
	putString(t, mc, bucket, "a", "a-one")
	putString(t, mc, bucket, "a", "a-two")
	putString(t, mc, bucket, "b", "bee")
	putString(t, mc, bucket, "c", "sea")
	src := bt.Source(t, srv, "")
	v := bt.Vault(t)
	res := bt.Backup(t, src, v, bucket, nil, nil)
	return src, v, res.Manifest
}

func TestOverwrite(t *testing.T) {
	t.Parallel()
	srv := testserver.Shared(t, testserver.MinIO)
	mc := srv.Client(t)
	src, v, m := backedUp(t, srv)
	dest := srv.NewBucket(t, true)
	putString(t, mc, dest, "a", "already here")
	putString(t, mc, dest, "c", "deleted since")
	if err := mc.RemoveObject(context.Background(), dest, "c", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}

	r := bt.Restore(t, src, v, m, restore.Options{DestBucket: dest})
	if !slices.Equal(r.Skipped, []string{"a"}) || r.Stats.ObjectsSkipped != 1 || r.Stats.ObjectsRestored != 2 {
		t.Fatalf("skipped %q, stats %+v", r.Skipped, r.Stats)
	}
	if !strings.Contains(r.Note, "1 keys already existed") {
		t.Errorf("note %q does not report the skipped key", r.Note)
	}
	if got := latest(t, mc, dest, "a"); got != "already here" {
		t.Fatalf("existing key overwritten without Overwrite: %q", got)
	}
	if b, c := latest(t, mc, dest, "b"), latest(t, mc, dest, "c"); b != "bee" || c != "sea" {
		t.Fatalf("b = %q, c = %q", b, c)
	}

	r = bt.Restore(t, src, v, m, restore.Options{DestBucket: dest, Overwrite: true, Items: []string{"s3://" + m.Bucket + "/a"}})
	if len(r.Skipped) != 0 || r.Stats.VersionsRestored != 2 || r.Stats.ObjectsRestored != 1 {
		t.Fatalf("overwrite: skipped %q, stats %+v", r.Skipped, r.Stats)
	}
	h := bt.Histories(bt.Snapshot(t, mc, dest))
	if got := len(h["a"]); got != 3 || latest(t, mc, dest, "a") != "a-two" {
		t.Fatalf("after overwrite a has %d versions, latest %q", got, latest(t, mc, dest, "a"))
	}
}

func TestDestinationErrors(t *testing.T) {
	t.Parallel()
	srv := testserver.Shared(t, testserver.MinIO)
	mc := srv.Client(t)
	src, v, m := backedUp(t, srv)
	ctx := context.Background()
	existing := srv.NewBucket(t, true)

	_, err := restore.Run(ctx, src, v, m, restore.Options{DestBucket: existing, NewBucket: true}, nil)
	if !errors.Is(err, s3source.ErrBucketExists) || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("new bucket that exists: %v", err)
	}
	if h := bt.Snapshot(t, mc, existing); len(h) != 0 {
		t.Errorf("restore wrote into an existing bucket asked to be new: %v", h)
	}
	_, err = restore.Run(ctx, src, v, m, restore.Options{DestBucket: "missing-" + existing}, nil)
	if !errors.Is(err, s3source.ErrNoSuchBucket) || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing bucket: %v", err)
	}
	t.Logf("missing bucket: %v", err)
	_, err = restore.Run(ctx, src, v, m, restore.Options{DestBucket: existing, Items: []string{"s3://other-bucket/a"}}, nil)
	if err == nil || !strings.Contains(err.Error(), "not the recovery point's bucket") {
		t.Errorf("item of another bucket: %v", err)
	}
	_, err = restore.Run(ctx, src, v, m, restore.Options{DestBucket: existing, VersionsUpTo: -1}, nil)
	if err == nil {
		t.Error("negative VersionsUpTo accepted")
	}
	down, err := s3source.New(s3source.Config{Endpoint: "http://127.0.0.1:1", AccessKey: "x", SecretKey: "y"})
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	_, err = restore.Run(cctx, down, v, m, restore.Options{DestBucket: existing}, nil)
	if err == nil {
		t.Error("unreachable destination accepted")
	}
	t.Logf("unreachable destination: %v", err)
}

// TestUnversionedDestination restores all versions into a bucket without
// versioning: each key ends in its final state, deleted keys are absent.
func TestUnversionedDestination(t *testing.T) {
	t.Parallel()
	srv := testserver.Shared(t, testserver.MinIO)
	mc := srv.Client(t)
	bucket := srv.NewBucket(t, true)
	putString(t, mc, bucket, "k", "one")
	putString(t, mc, bucket, "k", "two")
	putString(t, mc, bucket, "gone", "x")
	if err := mc.RemoveObject(context.Background(), bucket, "gone", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	src := bt.Source(t, srv, "")
	v := bt.Vault(t)
	m := bt.Backup(t, src, v, bucket, nil, nil).Manifest
	dest := srv.NewBucket(t, false)
	r := bt.Restore(t, src, v, m, restore.Options{DestBucket: dest})
	if !strings.Contains(r.Note, "no versioning") || r.Stats.ObjectsFailed != 0 {
		t.Fatalf("note %q stats %+v failures %v", r.Note, r.Stats, r.Failures)
	}
	snap := bt.Snapshot(t, mc, dest)
	if len(snap) != 1 || snap[0].Key != "k" || latest(t, mc, dest, "k") != "two" {
		t.Fatalf("destination %+v", snap)
	}
}
