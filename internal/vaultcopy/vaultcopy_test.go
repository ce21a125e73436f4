package vaultcopy_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/minio/minio-go/v7"

	bt "github.com/cofferbackup/coffer/internal/backup/backuptest"
	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/restore"
	"github.com/cofferbackup/coffer/internal/testserver"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vaultcopy"
)

func TestMain(m *testing.M) { testserver.Main(m) }

var ctx = context.Background()

const (
	objects = 100
	size    = 4096
)

// fill puts objects versions with metadata and tags, a second version of
// some keys and a delete marker, so that a copy has every kind of record.
func fill(t *testing.T, mc *minio.Client, bucket string) {
	t.Helper()
	for i := range objects {
		key := fmt.Sprintf("d%02d/o-%04d", i%7, i)
		opts := minio.PutObjectOptions{ContentType: "application/x-test", UserMetadata: map[string]string{"idx": fmt.Sprint(i)},
			UserTags: map[string]string{"team": fmt.Sprintf("t%d", i%3)}}
		if _, err := mc.PutObject(ctx, bucket, key, bytes.NewReader(bt.Bytes(uint64(i), size)), size, opts); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		key := fmt.Sprintf("d%02d/o-%04d", i%7, i)
		if _, err := mc.PutObject(ctx, bucket, key, bytes.NewReader(bt.Bytes(uint64(1000+i), size/2)), size/2, minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := mc.RemoveObject(ctx, bucket, "d03/o-0010", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := mc.PutObject(ctx, bucket, "empty", bytes.NewReader(nil), 0, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
}

func copyOpts(m recpoint.Manifest, prev *recpoint.Manifest, id string) vaultcopy.Options {
	return vaultcopy.Options{Source: m, SourceVaultARN: "arn:aws:backup:us-east-1:000000000000:backup-vault:a",
		JobID: "job-" + id, VaultName: "b", RecoveryPointID: id,
		RecoveryPointARN: "arn:aws:backup:us-east-1:000000000000:recovery-point:" + id, DeleteAfterDays: 9, Previous: prev}
}

// TestCopy: a copy into a second vault restores every version byte for
// byte with its metadata and tags; a second copy after a 1% change reads
// only the changed version from the source; a failed copy leaves nothing.
func TestCopy(t *testing.T) {
	srv := testserver.Shared(t, testserver.MinIO)
	mc := srv.Client(t)
	bucket := srv.NewBucket(t, true)
	fill(t, mc, bucket)
	src := bt.Source(t, srv, "")
	a, b := bt.Vault(t), bt.Vault(t)

	first := bt.Backup(t, src, a, bucket, nil, nil)
	res, err := vaultcopy.Run(ctx, a, b, copyOpts(first.Manifest, nil, "c1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	m := res.Manifest
	if m.SourceBackupVaultARN == "" || m.SourceRecoveryPointARN != first.Manifest.ARN || m.DeleteAfterDays != 9 || m.VaultName != "b" ||
		m.RecordCount != first.Manifest.RecordCount || m.TotalBytes != first.Manifest.TotalBytes || m.ObjectCount != first.Manifest.ObjectCount {
		t.Fatalf("copy manifest %+v\nsource %+v", m, first.Manifest)
	}
	dataVersions := int64(objects + 3) // the empty object has no data
	if st := res.Stats; st.ObjectsCopied != dataVersions || st.BytesRead != objects*size+3*size/2 || st.ObjectsReferenced != 0 || st.DeleteMarkers != 1 {
		t.Fatalf("first copy stats %+v", st)
	}
	if got, err := b.RecoveryPoint(ctx, "c1"); err != nil || got.Records != m.Records {
		t.Fatalf("copy not in the destination: %v", err)
	}
	// Every data object is the destination's own: none resolves in the source.
	for _, r := range bt.Records(t, b, m) {
		if r.Data == "" {
			continue
		}
		if rc, err := b.OpenObject(ctx, vault.ObjectID(r.Data)); err != nil {
			t.Fatalf("record's data not in the destination: %v", err)
		} else {
			_ = rc.Close()
		}
	}
	want := bt.Histories(bt.Snapshot(t, mc, bucket)).Select(0, nil)
	dest := testserver.UniqueBucketName("copy1")
	bt.Restore(t, src, b, m, restore.Options{DestBucket: dest, NewBucket: true})
	bt.Compare(t, want, bt.Histories(bt.Snapshot(t, mc, dest)))

	// 1% change: one new version.
	changed := bt.Bytes(77777, size)
	if _, err := mc.PutObject(ctx, bucket, "d05/o-0005", bytes.NewReader(changed), size, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	second := bt.Backup(t, src, a, bucket, &first.Manifest, nil)
	res2, err := vaultcopy.Run(ctx, a, b, copyOpts(second.Manifest, &m, "c2"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if st := res2.Stats; st.ObjectsCopied != 1 || st.BytesRead != size || st.ObjectsReferenced != dataVersions {
		t.Fatalf("incremental copy stats %+v: want 1 version (%d bytes) read", st, size)
	}
	want2 := bt.Histories(bt.Snapshot(t, mc, bucket)).Select(0, nil)
	dest2 := testserver.UniqueBucketName("copy2")
	bt.Restore(t, src, b, res2.Manifest, restore.Options{DestBucket: dest2, NewBucket: true})
	bt.Compare(t, want2, bt.Histories(bt.Snapshot(t, mc, dest2)))

	// A cancelled copy registers nothing.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := vaultcopy.Run(cctx, a, b, copyOpts(second.Manifest, nil, "c3"), nil); err == nil {
		t.Fatal("a cancelled copy succeeded")
	}
	if _, err := b.RecoveryPoint(ctx, "c3"); err == nil {
		t.Fatal("a cancelled copy left a recovery point")
	}
}
