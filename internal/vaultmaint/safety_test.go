package vaultmaint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/gofrs/flock"
	"github.com/kopia/kopia/repo"
	"github.com/kopia/kopia/repo/maintenance"

	"github.com/cofferbackup/coffer/internal/clock"
	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vault/vaulttest"
)

var clockStart = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC) //nolint:gochecknoglobals // test constant

// TestFullSafetyReclaimsAfterMargin: with vault.SafetyFull the space of a
// deleted recovery point is not touched while its contents are younger
// than kopia's 24 h margin, and is reclaimed once the margins passed
// (runs every 3 h of a fake clock; no sleeping).
func TestFullSafetyReclaimsAfterMargin(t *testing.T) {
	t.Parallel()

	// Objects of 16 MiB fill packs of their own that are not "short"
	// (under 60% of the 20 MiB pack size), so that kopia's consolidation
	// of short packs does not mix the two recovery points (a rewrite also
	// restarts a content's age).
	const size = 16 << 20

	clk := clock.NewFake(clockStart)
	dir := t.TempDir()
	repoDir := filepath.Join(dir, vaulttest.RepoDir)
	v := vaulttest.CreateOpts(t, dir, vault.Options{Clock: clk})
	defer vaulttest.Close(t, v)

	ctx := vaulttest.Ctx(t)
	keep := []vaulttest.Object{{Key: "keep", Data: vaulttest.RandomBytes(size, 11)}, {Key: "keep-small", Data: []byte("k")}}
	gone := []vaulttest.Object{{Key: "gone", Data: vaulttest.RandomBytes(size, 12)}, {Key: "gone-small", Data: []byte("g")}}
	kept, _ := vaulttest.PutRP(t, v, "keep", keep)
	_, goneIDs := vaulttest.PutRP(t, v, "gone", gone)

	// kopia resolves a manifest and its deletion by modification time:
	// a fake clock must move between them.
	clk.Advance(time.Second)

	if err := v.DeleteRecoveryPoint(ctx, "gone"); err != nil {
		t.Fatal(err)
	}

	base := vaulttest.DirSize(t, repoDir)

	const step = 3 * time.Hour

	var reclaimedAt time.Duration

	for age := time.Duration(0); age <= 72*time.Hour && (reclaimedAt == 0 || age < reclaimedAt+12*time.Hour); age += step {
		clk.Set(clockStart.Add(time.Second + age))

		began := time.Now()
		st := mustMaintain(t, v)
		left := vaulttest.DirSize(t, repoDir)

		t.Logf("age %2.0fh: %d -> %d bytes in %v: deleted %d contents, %d blobs, rewrote %d, recent %d, dropped before %v",
			age.Hours(), st.BytesBefore, st.BytesAfter, time.Since(began).Round(time.Millisecond),
			st.DeletedContents, st.DeletedBlobs, st.RewrittenContents, st.RecentContents, st.DroppedDeletedBefore)

		if age < 24*time.Hour {
			if st.DeletedContents != 0 || st.DeletedBlobs != 0 || left < base-(1<<20) {
				t.Fatalf("age %v: reclaimed before the margin: %d of %d bytes left, stats %+v", age, left, base, st)
			}

			if got := vaulttest.ReadObject(t, v, goneIDs["gone"]); !bytes.Equal(got, gone[0].Data) {
				t.Fatalf("age %v: young content of the deleted recovery point damaged", age)
			}
		}

		if reclaimedAt == 0 && base-left >= size*3/4 {
			reclaimedAt = age
		}

		vaulttest.CheckRP(t, v, kept, keep)
	}

	if reclaimedAt == 0 {
		t.Fatalf("72 h after the delete, %d of %d bytes still stored", vaulttest.DirSize(t, repoDir), base)
	}

	t.Logf("reclaimed %d h after the write", int(reclaimedAt.Hours()))

	if _, err := v.OpenObject(ctx, goneIDs["gone"]); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("reclaimed object: OpenObject = %v, want vault.ErrNotFound", err)
	}
}

// TestMaintainSparesOtherWriters: a backup running in another Vault handle
// on the same directory (another process) has written contents, some
// checkpointed into the index, some only in pack files, but committed no
// recovery point yet. Maintenance runs many times meanwhile (23 h of fake
// clock); the backup then commits and its recovery point is intact. The
// sole-writer case is the control: those margins are wrong here, and the
// test must see the damage they do.
func TestMaintainSparesOtherWriters(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		safety   vault.Safety
		survives bool
	}{
		{"full safety", vault.SafetyFull, true},
		{"sole writer margins (wrong here)", vault.SafetySoleWriter, false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			clk := clock.NewFake(clockStart)
			dir := t.TempDir()
			a := vaulttest.CreateOpts(t, dir, vault.Options{Clock: clk, Safety: tt.safety, Owner: "coffer@maintainer"})
			defer vaulttest.Close(t, a)

			b := vaulttest.OpenOpts(t, dir, vault.Options{Clock: clk, CheckpointObjects: 2, Owner: "coffer@backup"})
			defer vaulttest.Close(t, b)

			keep := []vaulttest.Object{{Key: "keep", Data: vaulttest.RandomBytes(1<<20, 20)}}
			kept, _ := vaulttest.PutRP(t, a, "keep", keep)

			m, objs := pendingBackup(t, b, clk, func() {
				for range 8 {
					clk.Advance(3 * time.Hour)
					mustMaintain(t, a)
				}
			})

			c := vaulttest.OpenOpts(t, dir, vault.Options{Clock: clk})
			defer vaulttest.Close(t, c)

			err := verifyRP(c, m, objs)
			if tt.survives && err != nil {
				t.Fatalf("backup of another writer damaged by maintenance: %v", err)
			}

			if !tt.survives && err == nil {
				t.Fatal("control: sole-writer margins did not damage the other writer's backup; the test cannot see damage")
			}

			vaulttest.CheckRP(t, c, kept, keep)
		})
	}
}

// pendingBackup writes three objects in a session of v (two checkpointed,
// one big enough to leave pack files the index does not know yet), calls
// meanwhile, then writes the record stream and commits. It returns the
// recovery point, or an empty manifest if the commit failed.
func pendingBackup(t *testing.T, v *vault.Vault, clk *clock.Fake, meanwhile func()) (recpoint.Manifest, []vaulttest.Object) {
	t.Helper()

	ctx := vaulttest.Ctx(t)

	w, err := v.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort(ctx) //nolint:errcheck // after Commit a no-op

	objs := []vaulttest.Object{
		{Key: "a-checkpointed", Data: vaulttest.RandomBytes(1<<20, 21)},
		{Key: "b-checkpointed", Data: vaulttest.RandomBytes(1<<20, 22)},
		{Key: "c-in-packs", Data: vaulttest.RandomBytes(24<<20, 23)},
	}
	ids := map[string]vault.ObjectID{}

	for i := range objs {
		for k, id := range vaulttest.WriteObjects(t, ctx, w, objs[i:i+1]) {
			ids[k] = id
		}
	}

	meanwhile()

	m := vaulttest.ManifestFor("pending", objs, vaulttest.WriteRecords(t, ctx, w, objs, ids))
	m.CreatedAt = clk.Now()

	if err := w.PutRecoveryPoint(ctx, m); err != nil {
		t.Logf("put recovery point: %v", err)
		return recpoint.Manifest{}, objs
	}

	if err := w.Commit(ctx); err != nil {
		t.Logf("commit: %v", err)
		return recpoint.Manifest{}, objs
	}

	return m, objs
}

// verifyRP reads every object of m and compares it with objs; unlike
// checkRP it returns what it found wrong.
func verifyRP(v *vault.Vault, m recpoint.Manifest, objs []vaulttest.Object) error {
	if m.ID == "" {
		return errors.New("no recovery point")
	}

	ctx := context.Background()

	r, err := v.OpenObject(ctx, vault.ObjectID(m.Records))
	if err != nil {
		return fmt.Errorf("open records: %w", err)
	}
	defer r.Close()

	rd, err := recpoint.NewReader(r)
	if err != nil {
		return fmt.Errorf("records: %w", err)
	}

	want := map[string][]byte{}
	for _, o := range objs {
		want[o.Key] = o.Data
	}

	for {
		var rec recpoint.Record
		if err := rd.Next(&rec); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return fmt.Errorf("records: %w", err)
		}

		got, err := readAll(v, vault.ObjectID(rec.Data))
		if err != nil {
			return fmt.Errorf("object %q: %w", rec.Key, err)
		}

		if !bytes.Equal(got, want[rec.Key]) {
			return fmt.Errorf("object %q differs", rec.Key)
		}

		delete(want, rec.Key)
	}

	if len(want) != 0 {
		return fmt.Errorf("%d objects missing", len(want))
	}

	return nil
}

func readAll(v *vault.Vault, id vault.ObjectID) ([]byte, error) {
	r, err := v.OpenObject(context.Background(), id)
	if err != nil {
		return nil, err
	}
	defer r.Close()

	return io.ReadAll(r)
}

// TestMaintainCancelled cancels Maintain at points spread over a run (as
// fractions of an uncancelled run's duration), each time with new garbage
// and the clock past the margins. After each: the live recovery point reads
// back byte for byte and the next Maintain succeeds; in the end all garbage
// is reclaimed.
func TestMaintainCancelled(t *testing.T) {
	t.Parallel()

	clk := clock.NewFake(clockStart)
	dir := t.TempDir()
	repoDir := filepath.Join(dir, vaulttest.RepoDir)
	v := vaulttest.CreateOpts(t, dir, vault.Options{Clock: clk})
	defer vaulttest.Close(t, v)

	ctx := vaulttest.Ctx(t)
	keep := []vaulttest.Object{{Key: "keep", Data: vaulttest.RandomBytes(4<<20, 30)}, {Key: "keep-small", Data: []byte("k")}}
	kept, _ := vaulttest.PutRP(t, v, "keep", keep)
	baseline := vaulttest.DirSize(t, repoDir)

	var garbageIDs []vault.ObjectID

	garbage := func(i int) {
		id := fmt.Sprintf("g%d", i)
		_, ids := vaulttest.PutRP(t, v, id, []vaulttest.Object{{Key: id, Data: vaulttest.RandomBytes(3<<20, uint64(40+i))}, {Key: id + "-small", Data: []byte(id)}})
		garbageIDs = append(garbageIDs, ids[id], ids[id+"-small"])
		clk.Advance(time.Second) // see TestFullSafetyReclaimsAfterMargin

		if err := v.DeleteRecoveryPoint(ctx, id); err != nil {
			t.Fatal(err)
		}

		clk.Advance(7 * time.Hour)
	}

	garbage(0)

	began := time.Now()
	mustMaintain(t, v)
	full := time.Since(began)

	for i, frac := range []float64{0, 0.05, 0.15, 0.3, 0.5, 0.7, 0.9} {
		garbage(i + 1)

		cctx, cancel := context.WithCancel(ctx)
		if frac == 0 {
			cancel()
		} else {
			time.AfterFunc(time.Duration(frac*float64(full)), cancel)
		}

		st, err := Maintain(cctx, v)
		if err != nil && cctx.Err() == nil {
			t.Fatalf("cancel at %.2f: Maintain failed before the cancel: %v", frac, err)
		}

		cancel()
		t.Logf("cancel at %.2f of %v: err %v, stats %+v", frac, full, err, st)

		vaulttest.CheckRP(t, v, kept, keep)
		mustMaintain(t, v)
		vaulttest.CheckRP(t, v, kept, keep)
	}

	// Margins, rewrites (which restart a content's age) and the 24 h pack
	// age make the last garbage go within a few days of runs. kopia never
	// rewrites a lone short pack, so one garbage object's bytes may stay
	// inside the live recovery point's pack.
	gone := func() bool {
		for _, id := range garbageIDs {
			if _, err := v.OpenObject(ctx, id); !errors.Is(err, vault.ErrNotFound) {
				return false
			}
		}

		return vaulttest.DirSize(t, repoDir) <= baseline+(4<<20)
	}

	for runs := 0; !gone(); runs++ {
		if runs == 30 {
			t.Fatalf("after the cancelled runs and %d runs 7 h apart: %d bytes, baseline %d", runs, vaulttest.DirSize(t, repoDir), baseline)
		}

		clk.Advance(7 * time.Hour)
		mustMaintain(t, v)
	}

	t.Logf("garbage reclaimed: %d bytes stored, baseline %d", vaulttest.DirSize(t, repoDir), baseline)
	vaulttest.CheckRP(t, vaulttest.OpenOpts(t, dir, vault.Options{Clock: clk}), kept, keep)
}

// TestMaintenanceOwner: Maintain records this handle's Owner as the
// vault's maintenance owner (taking over from another); a malformed owner
// is refused at open; kopia's local maintenance lock held elsewhere makes
// Maintain fail with ErrRunning.
func TestMaintenanceOwner(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	ctx := vaulttest.Ctx(t)
	a := vaulttest.CreateOpts(t, dir, vault.Options{Owner: "coffer@node-a"})
	defer vaulttest.Close(t, a)

	b := vaulttest.OpenOpts(t, dir, vault.Options{Owner: "svc@node-b"})
	defer vaulttest.Close(t, b)

	for _, step := range []struct {
		v    *vault.Vault
		want string
	}{{a, "coffer@node-a"}, {b, "svc@node-b"}, {a, "coffer@node-a"}} {
		st := mustMaintain(t, step.v)

		var p *maintenance.Params

		err := step.v.Repository(ctx, func(r repo.DirectRepository) error {
			var err error
			p, err = maintenance.GetParams(ctx, r)

			return err
		})
		if err != nil {
			t.Fatal(err)
		}

		if p.Owner != step.want || st.Owner != step.want {
			t.Fatalf("owner recorded %q, stats %q; want %q", p.Owner, st.Owner, step.want)
		}
	}

	for _, owner := range []string{"nohost", "@host", "user@"} {
		if v, err := vault.Open(ctx, dir, vaulttest.Secret, vault.Options{Owner: owner}); err == nil {
			vaulttest.Close(t, v)
			t.Errorf("Open with owner %q succeeded", owner)
		}
	}

	l := flock.New(filepath.Join(dir, vaulttest.ConfigFile) + ".mlock")
	if ok, err := l.TryLock(); err != nil || !ok {
		t.Fatalf("take maintenance lock: %v %v", ok, err)
	}

	if _, err := Maintain(ctx, a); !errors.Is(err, ErrRunning) {
		t.Errorf("Maintain while the lock is held = %v, want ErrRunning", err)
	}

	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}

	mustMaintain(t, a)
}
