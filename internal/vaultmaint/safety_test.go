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
	"github.com/kopia/kopia/repo/maintenance"

	"github.com/cofferbackup/coffer/internal/clock"
	"github.com/cofferbackup/coffer/internal/recpoint"
)

var clockStart = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC) //nolint:gochecknoglobals // test constant

// TestFullSafetyReclaimsAfterMargin: with SafetyFull the space of a
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
	repoDir := filepath.Join(dir, repoDirName)
	v := createVaultOpts(t, dir, Options{Clock: clk})
	defer closeVault(t, v)

	ctx := testCtx(t)
	keep := []testObject{{key: "keep", data: randomBytes(size, 11)}, {key: "keep-small", data: []byte("k")}}
	gone := []testObject{{key: "gone", data: randomBytes(size, 12)}, {key: "gone-small", data: []byte("g")}}
	kept, _ := putRP(t, v, "keep", keep)
	_, goneIDs := putRP(t, v, "gone", gone)

	// kopia resolves a manifest and its deletion by modification time:
	// a fake clock must move between them.
	clk.Advance(time.Second)

	if err := v.DeleteRecoveryPoint(ctx, "gone"); err != nil {
		t.Fatal(err)
	}

	base := dirSize(t, repoDir)

	const step = 3 * time.Hour

	var reclaimedAt time.Duration

	for age := time.Duration(0); age <= 72*time.Hour && (reclaimedAt == 0 || age < reclaimedAt+12*time.Hour); age += step {
		clk.Set(clockStart.Add(time.Second + age))

		began := time.Now()
		st := maintain(t, v)
		left := dirSize(t, repoDir)

		t.Logf("age %2.0fh: %d -> %d bytes in %v: deleted %d contents, %d blobs, rewrote %d, recent %d, dropped before %v",
			age.Hours(), st.BytesBefore, st.BytesAfter, time.Since(began).Round(time.Millisecond),
			st.DeletedContents, st.DeletedBlobs, st.RewrittenContents, st.RecentContents, st.DroppedDeletedBefore)

		if age < 24*time.Hour {
			if st.DeletedContents != 0 || st.DeletedBlobs != 0 || left < base-(1<<20) {
				t.Fatalf("age %v: reclaimed before the margin: %d of %d bytes left, stats %+v", age, left, base, st)
			}

			if got := readObject(t, v, goneIDs["gone"]); !bytes.Equal(got, gone[0].data) {
				t.Fatalf("age %v: young content of the deleted recovery point damaged", age)
			}
		}

		if reclaimedAt == 0 && base-left >= size*3/4 {
			reclaimedAt = age
		}

		checkRP(t, v, kept, keep)
	}

	if reclaimedAt == 0 {
		t.Fatalf("72 h after the delete, %d of %d bytes still stored", dirSize(t, repoDir), base)
	}

	t.Logf("reclaimed %d h after the write", int(reclaimedAt.Hours()))

	if _, err := v.OpenObject(ctx, goneIDs["gone"]); !errors.Is(err, ErrNotFound) {
		t.Errorf("reclaimed object: OpenObject = %v, want ErrNotFound", err)
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
		safety   Safety
		survives bool
	}{
		{"full safety", SafetyFull, true},
		{"sole writer margins (wrong here)", SafetySoleWriter, false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			clk := clock.NewFake(clockStart)
			dir := t.TempDir()
			a := createVaultOpts(t, dir, Options{Clock: clk, Safety: tt.safety, Owner: "coffer@maintainer"})
			defer closeVault(t, a)

			b := openVaultOpts(t, dir, Options{Clock: clk, CheckpointObjects: 2, Owner: "coffer@backup"})
			defer closeVault(t, b)

			keep := []testObject{{key: "keep", data: randomBytes(1<<20, 20)}}
			kept, _ := putRP(t, a, "keep", keep)

			m, objs := pendingBackup(t, b, clk, func() {
				for range 8 {
					clk.Advance(3 * time.Hour)
					maintain(t, a)
				}
			})

			c := openVaultOpts(t, dir, Options{Clock: clk})
			defer closeVault(t, c)

			err := verifyRP(c, m, objs)
			if tt.survives && err != nil {
				t.Fatalf("backup of another writer damaged by maintenance: %v", err)
			}

			if !tt.survives && err == nil {
				t.Fatal("control: sole-writer margins did not damage the other writer's backup; the test cannot see damage")
			}

			checkRP(t, c, kept, keep)
		})
	}
}

// pendingBackup writes three objects in a session of v (two checkpointed,
// one big enough to leave pack files the index does not know yet), calls
// meanwhile, then writes the record stream and commits. It returns the
// recovery point, or an empty manifest if the commit failed.
func pendingBackup(t *testing.T, v *Vault, clk *clock.Fake, meanwhile func()) (recpoint.Manifest, []testObject) {
	t.Helper()

	ctx := testCtx(t)

	w, err := v.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort(ctx) //nolint:errcheck // after Commit a no-op

	objs := []testObject{
		{key: "a-checkpointed", data: randomBytes(1<<20, 21)},
		{key: "b-checkpointed", data: randomBytes(1<<20, 22)},
		{key: "c-in-packs", data: randomBytes(24<<20, 23)},
	}
	ids := map[string]ObjectID{}

	for i := range objs {
		for k, id := range writeObjects(t, ctx, w, objs[i:i+1]) {
			ids[k] = id
		}
	}

	meanwhile()

	m := manifestFor("pending", objs, writeRecords(t, ctx, w, objs, ids))
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
func verifyRP(v *Vault, m recpoint.Manifest, objs []testObject) error {
	if m.ID == "" {
		return errors.New("no recovery point")
	}

	ctx := context.Background()

	r, err := v.OpenObject(ctx, ObjectID(m.Records))
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
		want[o.key] = o.data
	}

	for {
		var rec recpoint.Record
		if err := rd.Next(&rec); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return fmt.Errorf("records: %w", err)
		}

		got, err := readAll(v, ObjectID(rec.Data))
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

func readAll(v *Vault, id ObjectID) ([]byte, error) {
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
	repoDir := filepath.Join(dir, repoDirName)
	v := createVaultOpts(t, dir, Options{Clock: clk})
	defer closeVault(t, v)

	ctx := testCtx(t)
	keep := []testObject{{key: "keep", data: randomBytes(4<<20, 30)}, {key: "keep-small", data: []byte("k")}}
	kept, _ := putRP(t, v, "keep", keep)
	baseline := dirSize(t, repoDir)

	var garbageIDs []ObjectID

	garbage := func(i int) {
		id := fmt.Sprintf("g%d", i)
		_, ids := putRP(t, v, id, []testObject{{key: id, data: randomBytes(3<<20, uint64(40+i))}, {key: id + "-small", data: []byte(id)}})
		garbageIDs = append(garbageIDs, ids[id], ids[id+"-small"])
		clk.Advance(time.Second) // see TestFullSafetyReclaimsAfterMargin

		if err := v.DeleteRecoveryPoint(ctx, id); err != nil {
			t.Fatal(err)
		}

		clk.Advance(7 * time.Hour)
	}

	garbage(0)

	began := time.Now()
	maintain(t, v)
	full := time.Since(began)

	for i, frac := range []float64{0, 0.05, 0.15, 0.3, 0.5, 0.7, 0.9} {
		garbage(i + 1)

		cctx, cancel := context.WithCancel(ctx)
		if frac == 0 {
			cancel()
		} else {
			time.AfterFunc(time.Duration(frac*float64(full)), cancel)
		}

		st, err := v.Maintain(cctx)
		if err != nil && cctx.Err() == nil {
			t.Fatalf("cancel at %.2f: Maintain failed before the cancel: %v", frac, err)
		}

		cancel()
		t.Logf("cancel at %.2f of %v: err %v, stats %+v", frac, full, err, st)

		checkRP(t, v, kept, keep)
		maintain(t, v)
		checkRP(t, v, kept, keep)
	}

	// Margins, rewrites (which restart a content's age) and the 24 h pack
	// age make the last garbage go within a few days of runs. kopia never
	// rewrites a lone short pack, so one garbage object's bytes may stay
	// inside the live recovery point's pack.
	gone := func() bool {
		for _, id := range garbageIDs {
			if _, err := v.OpenObject(ctx, id); !errors.Is(err, ErrNotFound) {
				return false
			}
		}

		return dirSize(t, repoDir) <= baseline+(4<<20)
	}

	for runs := 0; !gone(); runs++ {
		if runs == 30 {
			t.Fatalf("after the cancelled runs and %d runs 7 h apart: %d bytes, baseline %d", runs, dirSize(t, repoDir), baseline)
		}

		clk.Advance(7 * time.Hour)
		maintain(t, v)
	}

	t.Logf("garbage reclaimed: %d bytes stored, baseline %d", dirSize(t, repoDir), baseline)
	checkRP(t, openVaultOpts(t, dir, Options{Clock: clk}), kept, keep)
}

// TestMaintenanceOwner: Maintain records this handle's Owner as the
// vault's maintenance owner (taking over from another); a malformed owner
// is refused at open; kopia's local maintenance lock held elsewhere makes
// Maintain fail with ErrMaintenanceRunning.
func TestMaintenanceOwner(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	ctx := testCtx(t)
	a := createVaultOpts(t, dir, Options{Owner: "coffer@node-a"})
	defer closeVault(t, a)

	b := openVaultOpts(t, dir, Options{Owner: "svc@node-b"})
	defer closeVault(t, b)

	for _, step := range []struct {
		v    *Vault
		want string
	}{{a, "coffer@node-a"}, {b, "svc@node-b"}, {a, "coffer@node-a"}} {
		st := maintain(t, step.v)

		p, err := maintenance.GetParams(ctx, step.v.rep)
		if err != nil {
			t.Fatal(err)
		}

		if p.Owner != step.want || st.Owner != step.want {
			t.Fatalf("owner recorded %q, stats %q; want %q", p.Owner, st.Owner, step.want)
		}
	}

	for _, owner := range []string{"nohost", "@host", "user@"} {
		if v, err := Open(ctx, dir, testSecret, Options{Owner: owner}); err == nil {
			closeVault(t, v)
			t.Errorf("Open with owner %q succeeded", owner)
		}
	}

	l := flock.New(filepath.Join(dir, configFileName) + ".mlock")
	if ok, err := l.TryLock(); err != nil || !ok {
		t.Fatalf("take maintenance lock: %v %v", ok, err)
	}

	if _, err := a.Maintain(ctx); !errors.Is(err, ErrMaintenanceRunning) {
		t.Errorf("Maintain while the lock is held = %v, want ErrMaintenanceRunning", err)
	}

	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}

	maintain(t, a)
}
