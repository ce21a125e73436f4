package restore_test

import (
	"context"
	"testing"

	"github.com/minio/minio-go/v7"

	bt "github.com/cofferbackup/coffer/internal/backup/backuptest"
	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/restore"
	"github.com/cofferbackup/coffer/internal/testserver"
)

// TestResumeFinishesMultiVersionKeys: a restore of every version into a
// new bucket stops after two of a key's four versions (its writes are
// refused from then on, as a crash would stop it); the resumed run writes
// the two it lacks on top, in order, and the destination's history equals
// the source's. Before, the key kept its first two versions only. A key
// whose history ends in a delete marker, written whole by the first run,
// is left alone by the second: a HEAD finds no such key, and the second
// run once wrote its whole history again (seen in the model test).
func TestResumeFinishesMultiVersionKeys(t *testing.T) {
	ctx := context.Background()
	for _, kind := range testserver.Kinds() {
		t.Run(kind, func(t *testing.T) {
			srv := testserver.Shared(t, kind)
			mc := srv.Client(t)
			bucket := srv.NewBucket(t, true)
			putRevisions(t, mc, bucket, "multi", 100, 2000, 0, 3000)
			if _, err := mc.PutObject(ctx, bucket, "single", bt.Data(9, 500), 500, minio.PutObjectOptions{}); err != nil {
				t.Fatal(err)
			}
			for i := range 2 {
				if _, err := mc.PutObject(ctx, bucket, "gone", bt.Data(uint64(20+i), 300), 300, minio.PutObjectOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			if err := mc.RemoveObject(ctx, bucket, "gone", minio.RemoveObjectOptions{}); err != nil {
				t.Fatal(err)
			}
			want := bt.Histories(bt.Snapshot(t, mc, bucket))
			src := bt.Source(t, srv, "")
			v := bt.Vault(t)
			res := bt.Backup(t, src, v, bucket, nil, nil)
			if res.Manifest.Status != recpoint.StatusCompleted {
				t.Fatalf("backup: %s", res.Manifest.Status)
			}

			px := bt.NewProxy(t, srv.Endpoint)
			dst := bt.Source(t, srv, px.URL)
			dest := testserver.UniqueBucketName("resume")
			px.DenyWritesAfter(dest, "multi", 2)
			first, err := restore.Run(ctx, dst, v, res.Manifest, restore.Options{DestBucket: dest, NewBucket: true}, nil)
			if err != nil || first.Stats.ObjectsFailed != 1 {
				t.Fatalf("first run: %v, %d failed; want the key to fail after two versions", err, first.Stats.ObjectsFailed)
			}
			px.AllowWrites(dest, "multi")
			second, err := restore.Run(ctx, dst, v, res.Manifest, restore.Options{DestBucket: dest, NewBucket: true, Resume: true}, nil)
			if err != nil || second.Stats.ObjectsFailed != 0 {
				t.Fatalf("resumed run: %v, %+v", err, second.Stats)
			}
			bt.Compare(t, want.Select(0, nil), bt.Histories(bt.Snapshot(t, mc, dest)))
			if second.Stats.VersionsRestored != 2 || second.Stats.DeleteMarkersRestored != 0 || second.Stats.ObjectsResumed != 2 {
				t.Errorf("resumed run wrote %d versions and %d delete markers and counted %d keys resumed; want the 2 missing versions, no marker and the keys single and gone resumed",
					second.Stats.VersionsRestored, second.Stats.DeleteMarkersRestored, second.Stats.ObjectsResumed)
			}
		})
	}
}

// TestResumeTurnsVersioningOn: the earlier run of a restore to a new bucket
// stopped after it created the bucket and before it turned versioning on
// (a kill between the two calls; the model test met it). The resumed run
// finds the bucket, turns versioning on and writes every version; before,
// it took the bucket as it was and kept the last version of each key only.
func TestResumeTurnsVersioningOn(t *testing.T) {
	ctx := context.Background()
	for _, kind := range testserver.Kinds() {
		t.Run(kind, func(t *testing.T) {
			srv := testserver.Shared(t, kind)
			mc := srv.Client(t)
			bucket := srv.NewBucket(t, true)
			putRevisions(t, mc, bucket, "multi", 100, 2000, 300)
			if err := mc.RemoveObject(ctx, bucket, "multi", minio.RemoveObjectOptions{}); err != nil {
				t.Fatal(err)
			}
			want := bt.Histories(bt.Snapshot(t, mc, bucket))
			v := bt.Vault(t)
			res := bt.Backup(t, bt.Source(t, srv, ""), v, bucket, nil, nil)
			if res.Manifest.Status != recpoint.StatusCompleted {
				t.Fatalf("backup: %s", res.Manifest.Status)
			}
			dest := testserver.UniqueBucketName("resume-unversioned")
			if err := mc.MakeBucket(ctx, dest, minio.MakeBucketOptions{}); err != nil {
				t.Fatal(err) // what the earlier run left
			}
			dst := bt.Source(t, srv, "")
			got, err := restore.Run(ctx, dst, v, res.Manifest,
				restore.Options{DestBucket: dest, NewBucket: true, Resume: true, VersionsUpTo: 0}, nil)
			if err != nil || got.Stats.ObjectsFailed != 0 {
				t.Fatalf("resumed run: %v, %+v", err, got.Stats)
			}
			bt.Compare(t, want.Select(0, nil), bt.Histories(bt.Snapshot(t, mc, dest)))
			if got.Stats.VersionsRestored != 3 || got.Stats.DeleteMarkersRestored != 1 {
				t.Errorf("resumed run wrote %d versions and %d delete markers, want 3 and 1",
					got.Stats.VersionsRestored, got.Stats.DeleteMarkersRestored)
			}
		})
	}
}

// TestResumeMatchesStackedMarkers: keys whose history holds two adjacent
// delete markers (left by deleting the version between them), restored
// whole into a new bucket, one key stopped before its last version. MinIO
// writes no delete marker on a delete marker, so there the destination
// holds one entry fewer than the restore selected; the resumed run, which
// counted the entries, took the key's last entries for unwritten and wrote
// them twice. It matches them now: the key written whole is left alone, the
// stopped one gets its last version only, on MinIO and versitygw alike.
func TestResumeMatchesStackedMarkers(t *testing.T) {
	ctx := context.Background()
	for _, kind := range testserver.Kinds() {
		t.Run(kind, func(t *testing.T) {
			srv := testserver.Shared(t, kind)
			mc := srv.Client(t)
			bucket := srv.NewBucket(t, true)
			for _, key := range []string{"stopped", "whole"} {
				putRevisions(t, mc, bucket, key, 100)
				putStackedMarkers(t, mc, bucket, key)
			}
			putRevisions(t, mc, bucket, "stopped", 200, 300)
			putRevisions(t, mc, bucket, "whole", 400)
			want := bt.Histories(bt.Snapshot(t, mc, bucket)).Select(0, nil)
			for _, key := range want.Keys() {
				if vs := want[key]; len(vs) < 3 || !vs[1].DeleteMarker || !vs[2].DeleteMarker {
					t.Fatalf("source history of %s has no adjacent delete markers: %+v", key, vs)
				}
			}
			if kind == testserver.MinIO {
				want = want.OneOfStackedMarkers()
			}
			v := bt.Vault(t)
			res := bt.Backup(t, bt.Source(t, srv, ""), v, bucket, nil, nil)
			if res.Manifest.Status != recpoint.StatusCompleted {
				t.Fatalf("backup: %s", res.Manifest.Status)
			}

			px := bt.NewProxy(t, srv.Endpoint)
			dst := bt.Source(t, srv, px.URL)
			dest := testserver.UniqueBucketName("resume-stacked")
			px.DenyWritesAfter(dest, "stopped", 2)
			opts := restore.Options{DestBucket: dest, NewBucket: true}
			first, err := restore.Run(ctx, dst, v, res.Manifest, opts, nil)
			if err != nil || first.Stats.ObjectsFailed != 1 {
				t.Fatalf("first run: %v, %d failed; want the key stopped to fail before its last version", err, first.Stats.ObjectsFailed)
			}
			px.AllowWrites(dest, "stopped")
			opts.Resume = true
			second, err := restore.Run(ctx, dst, v, res.Manifest, opts, nil)
			if err != nil || second.Stats.ObjectsFailed != 0 {
				t.Fatalf("resumed run: %v, %+v %+v", err, second.Stats, second.Failures)
			}
			bt.Compare(t, want, bt.Histories(bt.Snapshot(t, mc, dest)))
			if second.Stats.VersionsRestored != 1 || second.Stats.DeleteMarkersRestored != 0 || second.Stats.ObjectsResumed != 1 {
				t.Errorf("resumed run wrote %d versions and %d delete markers and counted %d keys resumed; want the one missing version, no marker and the key whole resumed",
					second.Stats.VersionsRestored, second.Stats.DeleteMarkersRestored, second.Stats.ObjectsResumed)
			}
		})
	}
}

// putStackedMarkers leaves two adjacent delete markers on top of key:
// delete, write a version, delete, then delete that version.
func putStackedMarkers(t *testing.T, mc *minio.Client, bucket, key string) {
	t.Helper()
	ctx := context.Background()
	if err := mc.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	between, err := mc.PutObject(ctx, bucket, key, bt.Data(77, 10), 10, minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := mc.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := mc.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{VersionID: between.VersionID}); err != nil {
		t.Fatal(err)
	}
}

// putRevisions writes one version of key per size, each with its own data
// and a Rev metadata value ("a", "b", ...).
func putRevisions(t *testing.T, mc *minio.Client, bucket, key string, sizes ...int) {
	t.Helper()
	for i, size := range sizes {
		if _, err := mc.PutObject(context.Background(), bucket, key, bt.Data(uint64(i), int64(size)), int64(size),
			minio.PutObjectOptions{UserMetadata: map[string]string{"Rev": string(rune('a' + i))}}); err != nil {
			t.Fatal(err)
		}
	}
}
