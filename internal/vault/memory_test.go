package vault

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
)

// TestCheckpoint: a long session commits its contents every
// CheckpointObjects objects (so their index entries leave memory), but a
// recovery point becomes visible only at Commit, even when a checkpoint is
// taken after PutRecoveryPoint; checkpointed data of a session that never
// commits is reclaimed by Maintain.
func TestCheckpoint(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	ctx := testCtx(t)

	v, err := Create(ctx, dir, testSecret, Options{CheckpointObjects: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer closeVault(t, v)

	keep := []testObject{{key: "k", data: randomBytes(1000, 1)}}
	kept, _ := putRP(t, v, "kept", keep)

	w, err := v.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort(ctx) //nolint:errcheck // released after the "crash"

	// One at a time, so that the checkpoints fall after objects 4 and 8.
	objs := make([]testObject, 10)
	ids := map[string]ObjectID{}

	for i := range objs {
		objs[i] = testObject{key: fmt.Sprintf("o%02d", i), data: randomBytes(1000, uint64(100+i))}
		for k, id := range writeObjects(t, ctx, w, objs[i:i+1]) {
			ids[k] = id
		}
	}

	if got := w.checkpoint.count.Load(); got != 2 {
		t.Fatalf("checkpoints after 10 objects = %d, want 2", got)
	}

	// The record stream is object 11; three more make object 14 take a
	// checkpoint while the recovery point is pending.
	if err := w.PutRecoveryPoint(ctx, manifestFor("crashed", objs, writeRecords(t, ctx, w, objs, ids))); err != nil {
		t.Fatal(err)
	}

	writeObjects(t, ctx, w, []testObject{{key: "a", data: []byte("a")}, {key: "b", data: []byte("b")}, {key: "c", data: []byte("c")}})

	if got := w.checkpoint.count.Load(); got != 3 {
		t.Fatalf("checkpoints after 14 objects = %d, want 3", got)
	}

	// The process "dies" here: another instance opens the vault, and is
	// its only writer from now on.
	v2 := openVaultOpts(t, dir, soleWriter)
	defer closeVault(t, v2)

	rps, err := v2.RecoveryPoints(ctx)
	if err != nil || len(rps) != 1 || rps[0].ID != kept.ID {
		t.Fatalf("RecoveryPoints = %+v, %v; want only %q (no manifest before Commit)", rps, err, kept.ID)
	}

	for _, o := range objs[:8] {
		if got := readObject(t, v2, ids[o.key]); !bytes.Equal(got, o.data) {
			t.Fatalf("checkpointed object %s: read %d bytes, want its %d", o.key, len(got), len(o.data))
		}
	}

	if _, err := v2.Maintain(ctx); err != nil {
		t.Fatal(err)
	}

	for _, o := range objs[:8] {
		if _, err := v2.OpenObject(ctx, ids[o.key]); !errors.Is(err, ErrNotFound) {
			t.Errorf("unreferenced object %s after Maintain: %v, want ErrNotFound", o.key, err)
		}
	}

	checkRP(t, v2, kept, keep)
}

// TestContentCacheBounded: reading more data than the content cache holds
// keeps the cache at its size, however recent the reads (kopia alone keeps
// every content read in the last 10 minutes, in files and in memory).
func TestContentCacheBounded(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	v := createVault(t, dir)
	defer closeVault(t, v)

	// 1 MiB objects are one content each (kopia splits at 2 MiB or more).
	objs := make([]testObject, 24)
	for i := range objs {
		objs[i] = testObject{key: fmt.Sprintf("o%02d", i), data: randomBytes(1<<20, uint64(i))}
	}

	_, ids := putRP(t, v, "rp", objs)

	for _, o := range objs {
		if got := readObject(t, v, ids[o.key]); !bytes.Equal(got, o.data) {
			t.Fatalf("object %s differs", o.key)
		}
	}

	if size := dirSize(t, filepath.Join(dir, cacheDirName, "contents")); size > contentCacheBytes {
		t.Fatalf("content cache holds %d bytes after reading 24 MiB, limit %d", size, contentCacheBytes)
	}
}
