package restore_test

import (
	"context"
	"slices"
	"testing"

	"github.com/minio/minio-go/v7"

	bt "github.com/cofferbackup/coffer/internal/backup/backuptest"
	"github.com/cofferbackup/coffer/internal/restore"
	"github.com/cofferbackup/coffer/internal/testserver"
)

// TestNoOverwriteOfKeysWrittenMeanwhile: without Overwrite, a key written
// at the destination between the restore's HEAD (absent) and its PUT is
// not replaced but counted skipped, on both servers, into versioned and
// unversioned buckets, restoring all versions (only the first write of a
// key is conditional: a's second version goes on top of its first). A key
// whose current version at the destination is a delete marker is restored
// (versitygw answers 412 there; the restore checks again).
func TestNoOverwriteOfKeysWrittenMeanwhile(t *testing.T) {
	t.Parallel()
	for _, kind := range testserver.Kinds() {
		for _, versioned := range []bool{true, false} {
			name := kind + map[bool]string{true: "/versioned", false: "/unversioned"}[versioned]
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				testNoOverwriteRace(t, testserver.Shared(t, kind), versioned)
			})
		}
	}
}

func testNoOverwriteRace(t *testing.T, srv *testserver.Server, versioned bool) {
	mc := srv.Client(t)
	src, v, m := backedUp(t, srv) // a (a-one, a-two), b, c
	dest := srv.NewBucket(t, versioned)
	if versioned {
		putString(t, mc, dest, "c", "deleted since")
		if err := mc.RemoveObject(context.Background(), dest, "c", minio.RemoveObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	intruders := map[string]string{"a": "written meanwhile: a", "b": "written meanwhile: b"}
	r := bt.Restore(t, src, v, m, restore.Options{DestBucket: dest, TestHookBeforeWrite: func(key string) {
		if body, ok := intruders[key]; ok {
			putString(t, mc, dest, key, body)
		}
	}})
	skipped := slices.Sorted(slices.Values(r.Skipped))
	if !slices.Equal(skipped, []string{"a", "b"}) || r.Stats.ObjectsSkipped != 2 || r.Stats.ObjectsRestored != 1 {
		t.Errorf("skipped %q, stats %+v; want a and b skipped, c restored (note %q)", skipped, r.Stats, r.Note)
	}
	if r.Stats.TotalBytes != int64(len("sea")) {
		t.Errorf("TotalBytes %d counts skipped keys", r.Stats.TotalBytes)
	}
	for key, body := range intruders {
		if got := latest(t, mc, dest, key); got != body {
			t.Errorf("%s written meanwhile was replaced by the restore: %q", key, got)
		}
	}
	if got := latest(t, mc, dest, "c"); got != "sea" {
		t.Errorf("c = %q, want restored", got)
	}
	h := bt.Histories(bt.Snapshot(t, mc, dest))
	if len(h["a"]) != 1 {
		t.Errorf("a has %d versions at the destination, want only the one written meanwhile", len(h["a"]))
	}
}

// TestNewBucketRestoreSparesTheHEAD: into a bucket the restore creates,
// where conditional writes are honoured, a key is written without the
// HEAD before it (one request less per key), and a key written there
// meanwhile is still not replaced but counted skipped.
func TestNewBucketRestoreSparesTheHEAD(t *testing.T) {
	t.Parallel()
	for _, kind := range testserver.Kinds() {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			srv := testserver.Shared(t, kind)
			mc := srv.Client(t)
			_, v, m := backedUp(t, srv) // a (a-one, a-two), b, c
			proxy := bt.NewProxy(t, srv.Endpoint)
			dst := bt.Source(t, srv, proxy.URL)
			dest := testserver.UniqueBucketName("new")
			intruders := map[string]string{"a": "written meanwhile: a", "b": "written meanwhile: b"}
			r := bt.Restore(t, dst, v, m, restore.Options{DestBucket: dest, NewBucket: true, TestHookBeforeWrite: func(key string) {
				if body, ok := intruders[key]; ok {
					putString(t, mc, dest, key, body)
				}
			}})
			skipped := slices.Sorted(slices.Values(r.Skipped))
			if !slices.Equal(skipped, []string{"a", "b"}) || r.Stats.ObjectsRestored != 1 {
				t.Errorf("skipped %q, stats %+v; want a and b skipped, c restored (note %q)", skipped, r.Stats, r.Note)
			}
			for key, body := range intruders {
				if got := latest(t, mc, dest, key); got != body {
					t.Errorf("%s written meanwhile was replaced by the restore: %q", key, got)
				}
			}
			if got := latest(t, mc, dest, "c"); got != "sea" {
				t.Errorf("c = %q, want restored", got)
			}
			// c was written at once; a and b were looked at only after
			// the condition refused them (to tell a key from a delete
			// marker, putFirst).
			if n := proxy.Heads(dest, "c"); n != 0 {
				t.Errorf("c was HEADed %d times before its write, want none", n)
			}
			if n := proxy.Heads(dest, "a") + proxy.Heads(dest, "b"); n > 2 {
				t.Errorf("a and b HEADed %d times, want at most once each", n)
			}
		})
	}
}

// TestMultiVersionRestoreWritesEveryVersion: the conditional first write
// does not stop a key's later versions.
func TestMultiVersionRestoreWritesEveryVersion(t *testing.T) {
	t.Parallel()
	for _, kind := range testserver.Kinds() {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			srv := testserver.Shared(t, kind)
			mc := srv.Client(t)
			src, v, m := backedUp(t, srv)
			dest := srv.NewBucket(t, true)
			r := bt.Restore(t, src, v, m, restore.Options{DestBucket: dest})
			h := bt.Histories(bt.Snapshot(t, mc, dest))
			if r.Stats.ObjectsRestored != 3 || r.Stats.VersionsRestored != 4 || len(h["a"]) != 2 || latest(t, mc, dest, "a") != "a-two" {
				t.Fatalf("stats %+v, a has %d versions (latest %q), note %q", r.Stats, len(h["a"]), latest(t, mc, dest, "a"), r.Note)
			}
		})
	}
}
