package vault_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vault/vaulttest"
	"github.com/cofferbackup/coffer/internal/vaultmaint"
)

// TestCheckpoint: a long session commits its contents every
// CheckpointObjects objects (so their index entries leave memory), but a
// recovery point becomes visible only at Commit, even when a checkpoint is
// taken after PutRecoveryPoint; checkpointed data of a session that never
// commits is reclaimed by Maintain.
func TestCheckpoint(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	ctx := vaulttest.Ctx(t)

	v, err := vault.Create(ctx, dir, vaulttest.Secret, vault.Options{CheckpointObjects: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer vaulttest.Close(t, v)

	keep := []vaulttest.Object{{Key: "k", Data: vaulttest.RandomBytes(1000, 1)}}
	kept, _ := vaulttest.PutRP(t, v, "kept", keep)

	w, err := v.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort(ctx) //nolint:errcheck // released after the "crash"

	// One at a time, so that the checkpoints fall after objects 4 and 8.
	objs := make([]vaulttest.Object, 10)
	ids := map[string]vault.ObjectID{}

	for i := range objs {
		objs[i] = vaulttest.Object{Key: fmt.Sprintf("o%02d", i), Data: vaulttest.RandomBytes(1000, uint64(100+i))}
		for k, id := range vaulttest.WriteObjects(t, ctx, w, objs[i:i+1]) {
			ids[k] = id
		}
	}

	if got := vault.CheckpointCount(w); got != 2 {
		t.Fatalf("checkpoints after 10 objects = %d, want 2", got)
	}

	// The record stream is object 11; three more make object 14 take a
	// checkpoint while the recovery point is pending.
	if err := w.PutRecoveryPoint(ctx, vaulttest.ManifestFor("crashed", objs, vaulttest.WriteRecords(t, ctx, w, objs, ids))); err != nil {
		t.Fatal(err)
	}

	vaulttest.WriteObjects(t, ctx, w, []vaulttest.Object{{Key: "a", Data: []byte("a")}, {Key: "b", Data: []byte("b")}, {Key: "c", Data: []byte("c")}})

	if got := vault.CheckpointCount(w); got != 3 {
		t.Fatalf("checkpoints after 14 objects = %d, want 3", got)
	}

	// The process "dies" here: another instance opens the vault, and is
	// its only writer from now on.
	v2 := vaulttest.OpenOpts(t, dir, vaulttest.SoleWriter)
	defer vaulttest.Close(t, v2)

	rps, err := v2.RecoveryPoints(ctx)
	if err != nil || len(rps) != 1 || rps[0].ID != kept.ID {
		t.Fatalf("RecoveryPoints = %+v, %v; want only %q (no manifest before Commit)", rps, err, kept.ID)
	}

	for _, o := range objs[:8] {
		if got := vaulttest.ReadObject(t, v2, ids[o.Key]); !bytes.Equal(got, o.Data) {
			t.Fatalf("checkpointed object %s: read %d bytes, want its %d", o.Key, len(got), len(o.Data))
		}
	}

	if _, err := vaultmaint.Maintain(ctx, v2); err != nil {
		t.Fatal(err)
	}

	for _, o := range objs[:8] {
		if _, err := v2.OpenObject(ctx, ids[o.Key]); !errors.Is(err, vault.ErrNotFound) {
			t.Errorf("unreferenced object %s after Maintain: %v, want vault.ErrNotFound", o.Key, err)
		}
	}

	vaulttest.CheckRP(t, v2, kept, keep)
}
