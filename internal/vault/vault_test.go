package vault

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	v := createVault(t, dir)

	objs := []testObject{
		{key: "empty", data: nil},
		{key: "one-byte", data: []byte{42}},
		{key: "small", data: randomBytes(1000, 1)},
		{key: "text", data: bytes.Repeat([]byte("hello coffer "), 100_000)},
		{key: "medium", data: randomBytes(3<<20, 2)},
		{key: "big", data: randomBytes(20<<20, 3)},
		{key: "big-copy", data: randomBytes(20<<20, 3)}, // dedups with big
	}
	for i := range 8 {
		objs = append(objs, testObject{key: "many/" + string(rune('a'+i)), data: randomBytes(10_000+i, uint64(100+i))})
	}

	m, ids := putRP(t, v, "rp-1", objs)

	if ids["big"] != ids["big-copy"] {
		t.Errorf("identical objects got different ids %q and %q", ids["big"], ids["big-copy"])
	}

	closeVault(t, v)

	v = openVault(t, dir)
	defer closeVault(t, v)

	ctx := testCtx(t)

	rps, err := v.RecoveryPoints(ctx)
	if err != nil {
		t.Fatal(err)
	}

	if len(rps) != 1 || rps[0].ID != "rp-1" || rps[0].Records != m.Records || !rps[0].CreatedAt.Equal(m.CreatedAt) ||
		rps[0].TotalBytes != m.TotalBytes || rps[0].ARN != m.ARN {
		t.Fatalf("RecoveryPoints = %+v, want [%+v]", rps, m)
	}

	got, err := v.RecoveryPoint(ctx, "rp-1")
	if err != nil || got.Records != m.Records {
		t.Fatalf("RecoveryPoint = %+v, %v", got, err)
	}

	checkRP(t, v, m, objs)

	for _, o := range objs {
		if b := readObject(t, v, ids[o.key]); !bytes.Equal(b, o.data) {
			t.Errorf("object %q differs", o.key)
		}
	}
}

func TestOpenObjectSeek(t *testing.T) {
	t.Parallel()

	v := createVault(t, t.TempDir())
	defer closeVault(t, v)

	data := randomBytes(9<<20, 7)
	_, ids := putRP(t, v, "rp", []testObject{{key: "k", data: data}})

	r, err := v.OpenObject(testCtx(t), ids["k"])
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	tests := []struct {
		offset int64
		whence int
		want   int64
	}{
		{5 << 20, io.SeekStart, 5 << 20},
		{-100, io.SeekEnd, int64(len(data)) - 100},
		{1, io.SeekStart, 1},
		{4<<20 - 51, io.SeekCurrent, 4 << 20}, // after reading 50 bytes at 1
	}

	for _, tt := range tests {
		pos, err := r.Seek(tt.offset, tt.whence)
		if err != nil || pos != tt.want {
			t.Fatalf("Seek(%d, %d) = %d, %v; want %d", tt.offset, tt.whence, pos, err, tt.want)
		}

		buf := make([]byte, 50)

		n, err := io.ReadFull(r, buf)
		if err != nil || !bytes.Equal(buf[:n], data[pos:pos+int64(n)]) {
			t.Fatalf("read at %d: n=%d err=%v, data differs", pos, n, err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()

	ctx := testCtx(t)
	existing := t.TempDir()
	closeVault(t, createVault(t, existing))

	emptyDir := t.TempDir()

	tests := []struct {
		name string
		op   func() (*Vault, error)
		want error
	}{
		{"wrong secret", func() (*Vault, error) { return Open(ctx, existing, "not the secret", Options{}) }, ErrWrongPassword},
		{"missing dir", func() (*Vault, error) {
			return Open(ctx, filepath.Join(t.TempDir(), "nope"), testSecret, Options{})
		}, ErrNotFound},
		{"empty dir", func() (*Vault, error) { return Open(ctx, emptyDir, testSecret, Options{}) }, ErrNotFound},
		{"create twice", func() (*Vault, error) { return Create(ctx, existing, testSecret, Options{}) }, ErrExists},
		{"create twice other secret", func() (*Vault, error) { return Create(ctx, existing, "x", Options{}) }, ErrExists},
		{"empty secret", func() (*Vault, error) { return Create(ctx, t.TempDir(), "", Options{}) }, nil},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := tt.op()
			if err == nil {
				_ = v.Close(ctx)
				t.Fatal("no error")
			}

			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}

	// The existing vault is still intact and opens with the right secret.
	closeVault(t, openVault(t, existing))
}

func TestVaultErrors(t *testing.T) {
	t.Parallel()

	ctx := testCtx(t)
	v := createVault(t, t.TempDir())

	if _, err := v.RecoveryPoint(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("RecoveryPoint(missing) = %v", err)
	}

	if err := v.DeleteRecoveryPoint(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("DeleteRecoveryPoint(missing) = %v", err)
	}

	w, err := v.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// A records object that does not exist.
	other := createVault(t, t.TempDir())
	_, otherIDs := putRP(t, other, "x", []testObject{{key: "k", data: []byte("elsewhere")}})
	closeVault(t, other)

	m := manifestFor("rp", nil, otherIDs["k"])
	if err := w.PutRecoveryPoint(ctx, m); !errors.Is(err, ErrNotFound) {
		t.Errorf("PutRecoveryPoint(unknown records) = %v", err)
	}

	if err := w.PutRecoveryPoint(ctx, manifestFor("", nil, otherIDs["k"])); err == nil {
		t.Error("PutRecoveryPoint(empty id) succeeded")
	}

	if _, err := v.OpenObject(ctx, otherIDs["k"]); !errors.Is(err, ErrNotFound) {
		t.Errorf("OpenObject(unknown) = %v", err)
	}

	if _, err := v.OpenObject(ctx, "not an id!"); err == nil {
		t.Error("OpenObject(invalid) succeeded")
	}

	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	if err := w.Commit(ctx); err == nil {
		t.Error("second Commit succeeded")
	}

	if _, _, err := w.WriteObject(ctx, strings.NewReader("late")); err == nil {
		t.Error("WriteObject after Commit succeeded")
	}

	if err := w.Abort(ctx); err != nil {
		t.Errorf("Abort after Commit: %v", err)
	}

	closeVault(t, v)
	closeVault(t, v) // idempotent

	if _, err := v.NewWriter(ctx); err == nil {
		t.Error("NewWriter after Close succeeded")
	}

	if _, err := v.RecoveryPoints(ctx); err == nil {
		t.Error("RecoveryPoints after Close succeeded")
	}
}

func TestUncommittedInvisible(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	v := createVault(t, dir)
	ctx := testCtx(t)

	kept, _ := putRP(t, v, "kept", []testObject{{key: "a", data: []byte("kept data")}})

	// Session 1 aborts; session 2 never commits (as if the process died).
	// Each writes more than a pack (20 MiB), so pack blobs reach storage.
	var lost []ObjectID

	for i, finish := range []string{"abort", "crash"} {
		w, err := v.NewWriter(ctx)
		if err != nil {
			t.Fatal(err)
		}

		objs := []testObject{
			{key: "big", data: randomBytes(25<<20, uint64(10+i))},
			{key: "small", data: []byte("uncommitted " + finish)},
		}
		ids := writeObjects(t, ctx, w, objs)
		rec := writeRecords(t, ctx, w, objs, ids)

		if err := w.PutRecoveryPoint(ctx, manifestFor("rp-"+finish, objs, rec)); err != nil {
			t.Fatal(err)
		}

		lost = append(lost, ids["big"], ids["small"], rec)

		if finish == "abort" {
			if err := w.Abort(ctx); err != nil {
				t.Fatal(err)
			}

			if _, err := v.RecoveryPoint(ctx, "rp-abort"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("aborted recovery point visible: %v", err)
			}
		} else {
			defer w.Abort(ctx) //nolint:errcheck // release after the "crash"
		}
	}

	closeVault(t, v)

	v = openVault(t, dir)
	defer closeVault(t, v)

	rps, err := v.RecoveryPoints(ctx)
	if err != nil || len(rps) != 1 || rps[0].ID != kept.ID {
		t.Fatalf("RecoveryPoints = %+v, %v; want only %q", rps, err, kept.ID)
	}

	for _, id := range lost {
		if _, err := v.OpenObject(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("uncommitted object %q: OpenObject = %v, want ErrNotFound", id, err)
		}
	}
}

func TestPutRecoveryPointReplaces(t *testing.T) {
	t.Parallel()

	v := createVault(t, t.TempDir())
	defer closeVault(t, v)

	ctx := testCtx(t)
	first, _ := putRP(t, v, "rp", []testObject{{key: "a", data: []byte("first")}})
	second, _ := putRP(t, v, "rp", []testObject{{key: "a", data: []byte("second")}})
	other, _ := putRP(t, v, "other", []testObject{{key: "a", data: []byte("other")}})

	if first.Records == second.Records {
		t.Fatal("test needs different record streams")
	}

	rps, err := v.RecoveryPoints(ctx)
	if err != nil {
		t.Fatal(err)
	}

	got := map[string]string{}
	for _, m := range rps {
		got[m.ID] = m.Records
	}

	if len(rps) != 2 || got["rp"] != second.Records || got["other"] != other.Records {
		t.Fatalf("RecoveryPoints = %+v", rps)
	}

	if err := v.DeleteRecoveryPoint(ctx, "rp"); err != nil {
		t.Fatal(err)
	}

	if _, err := v.RecoveryPoint(ctx, "rp"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted recovery point: %v", err)
	}

	if m, err := v.RecoveryPoint(ctx, "other"); err != nil || m.Records != other.Records {
		t.Fatalf("RecoveryPoint(other) = %+v, %v", m, err)
	}
}

// TestConcurrentUse exercises vault methods from many goroutines (run with
// -race).
func TestConcurrentUse(t *testing.T) {
	t.Parallel()

	v := createVault(t, t.TempDir())
	defer closeVault(t, v)

	base, _ := putRP(t, v, "base", []testObject{{key: "a", data: randomBytes(100_000, 1)}})

	var wg sync.WaitGroup

	for i := range 4 {
		wg.Go(func() {
			id := "rp-" + string(rune('a'+i))
			objs := []testObject{{key: "k", data: randomBytes(200_000, uint64(i))}}
			m, _ := putRP(t, v, id, objs)
			checkRP(t, v, m, objs)
		})
		wg.Go(func() {
			for range 3 {
				if _, err := v.RecoveryPoints(testCtx(t)); err != nil {
					t.Error(err)
				}

				readRP(t, v, base)
			}
		})
	}

	wg.Wait()

	rps, err := v.RecoveryPoints(testCtx(t))
	if err != nil || len(rps) != 5 {
		t.Fatalf("RecoveryPoints = %d, %v", len(rps), err)
	}
}
