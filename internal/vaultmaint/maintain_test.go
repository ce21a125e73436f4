package vaultmaint

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vault/vaulttest"
)

// TestEncryptedAtRest writes plaintext markers as object data (compressible
// and incompressible), key names, user metadata and manifest fields, then
// checks that no file under the vault directory (repository, config and
// caches) contains any of them.
func TestEncryptedAtRest(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	v := vaulttest.Create(t, dir)

	markers := []string{
		"PLAINTEXT-MARKER-xyz",
		"secret-key-name-abc",
		"meta-value-MARKER-qrs",
		"meta-name-MARKER-tuv",
		"bucket-MARKER-def",
		vaulttest.Secret,
	}

	compressible := bytes.Repeat([]byte("PLAINTEXT-MARKER-xyz "), 100_000) // ~2 MiB
	mixed := vaulttest.RandomBytes(6<<20, 9)
	for off := 0; off+64 < len(mixed); off += 100_000 {
		copy(mixed[off:], "PLAINTEXT-MARKER-xyz")
	}

	objs := []vaulttest.Object{
		{Key: "secret-key-name-abc", Data: compressible, Meta: map[string]string{"meta-name-MARKER-tuv": "meta-value-MARKER-qrs"}},
		{Key: "secret-key-name-abc/2", Data: mixed},
		{Key: "tiny", Data: []byte("PLAINTEXT-MARKER-xyz")},
	}

	ctx := vaulttest.Ctx(t)

	w, err := v.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}

	ids := vaulttest.WriteObjects(t, ctx, w, objs)
	m := vaulttest.ManifestFor("rp-enc", objs, vaulttest.WriteRecords(t, ctx, w, objs, ids))
	m.Bucket = "bucket-MARKER-def"
	m.Tags = map[string]string{"tag": "bucket-MARKER-def"}

	if err := w.PutRecoveryPoint(ctx, m); err != nil {
		t.Fatal(err)
	}

	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	// Read everything back so that the caches fill, and maintain so that
	// rewrites happen too.
	vaulttest.CheckRP(t, v, m, objs)

	if _, err := Maintain(ctx, v); err != nil {
		t.Fatal(err)
	}

	vaulttest.CheckRP(t, v, m, objs)
	vaulttest.Close(t, v)

	files := 0

	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}

		files++

		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}

		for _, mk := range markers {
			if bytes.Contains(b, []byte(mk)) {
				t.Errorf("%s contains plaintext %q", path, mk)
			}
		}

		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	if files < 5 {
		t.Fatalf("only %d files under the vault", files)
	}

	// zstd: ~2 MiB of repeated text must take far less room than that;
	// the 6 MiB of random data cannot shrink.
	if size := vaulttest.DirSize(t, filepath.Join(dir, vaulttest.RepoDir)); size > int64(len(mixed))+(1<<20) {
		t.Errorf("repository holds %d bytes; compressible data was not compressed", size)
	}
}

// TestMaintainReclaimsSpace: with vault.SafetySoleWriter one Maintain reclaims
// the space of a deleted recovery point, shared data stays.
func TestMaintainReclaimsSpace(t *testing.T) {
	t.Parallel()

	const size = 16 << 20

	dir := t.TempDir()
	repoDir := filepath.Join(dir, vaulttest.RepoDir)
	v := vaulttest.CreateOpts(t, dir, vaulttest.SoleWriter)

	shared := vaulttest.Object{Key: "shared", Data: vaulttest.RandomBytes(size, 1)}
	objs1 := []vaulttest.Object{shared, {Key: "only-1", Data: vaulttest.RandomBytes(size, 2)}, {Key: "small-1", Data: []byte("one")}}
	objs2 := []vaulttest.Object{shared, {Key: "only-2", Data: vaulttest.RandomBytes(size, 3)}, {Key: "small-2", Data: []byte("two")}}

	_, ids1 := vaulttest.PutRP(t, v, "rp-1", objs1)
	size1 := vaulttest.DirSize(t, repoDir)

	rp2, ids2 := vaulttest.PutRP(t, v, "rp-2", objs2)
	size2 := vaulttest.DirSize(t, repoDir)

	if ids1["shared"] != ids2["shared"] {
		t.Fatalf("shared object not deduplicated: %q vs %q", ids1["shared"], ids2["shared"])
	}

	if grown := size2 - size1; grown > size+size/8 {
		t.Fatalf("second recovery point grew the repository by %d bytes, want about %d (dedup)", grown, size)
	}

	ctx := vaulttest.Ctx(t)

	// Nothing to reclaim yet.
	st, err := Maintain(ctx, v)
	if err != nil {
		t.Fatal(err)
	}

	if st.LiveRecoveryPoints != 2 || st.DeletedContents != 0 || st.LiveContents < 6 {
		t.Fatalf("maintain with nothing deleted: %+v", st)
	}

	sizeBefore := vaulttest.DirSize(t, repoDir)

	if err := v.DeleteRecoveryPoint(ctx, "rp-1"); err != nil {
		t.Fatal(err)
	}

	st, err = Maintain(ctx, v)
	if err != nil {
		t.Fatal(err)
	}

	t.Logf("after deleting rp-1: %+v", st)

	sizeAfter := vaulttest.DirSize(t, repoDir)
	freed := sizeBefore - sizeAfter

	switch {
	case st.LiveRecoveryPoints != 1 || st.DeletedContents < 3 || st.DeletedBlobs < 1:
		t.Errorf("stats %+v", st)
	case freed < size*3/4 || freed > size+size/4:
		t.Errorf("freed %d bytes on disk, want about %d", freed, size)
	case st.FreedBytes < size*3/4 || st.FreedBytes > freed+(1<<20):
		t.Errorf("FreedBytes = %d, disk freed %d", st.FreedBytes, freed)
	case sizeAfter < 2*size:
		t.Errorf("repository has %d bytes left, less than rp-2's data", sizeAfter)
	}

	vaulttest.CheckRP(t, v, rp2, objs2)

	if _, err := v.OpenObject(ctx, ids1["only-1"]); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("reclaimed object: OpenObject = %v, want vault.ErrNotFound", err)
	}

	// The state survives reopening.
	vaulttest.Close(t, v)
	v = vaulttest.OpenOpts(t, dir, vaulttest.SoleWriter)
	defer func() { vaulttest.Close(t, v) }()

	vaulttest.CheckRP(t, v, rp2, objs2)

	deleteAllAndRewrite(t, v, repoDir, objs1)
}

// deleteAllAndRewrite deletes the only recovery point left (rp-2),
// maintains, expects an almost empty repository, then writes objs again
// right away and expects them back intact.
func deleteAllAndRewrite(t *testing.T, v *vault.Vault, repoDir string, objs []vaulttest.Object) {
	t.Helper()

	ctx := vaulttest.Ctx(t)

	if err := v.DeleteRecoveryPoint(ctx, "rp-2"); err != nil {
		t.Fatal(err)
	}

	st, err := Maintain(ctx, v)
	if err != nil {
		t.Fatal(err)
	}

	t.Logf("after deleting rp-2: %+v", st)

	if left := vaulttest.DirSize(t, repoDir); left > 1<<20 || st.LiveRecoveryPoints != 0 || st.LiveContents != 0 {
		t.Errorf("after deleting everything: %d bytes left, stats %+v", left, st)
	}

	// Data deleted and dropped can be written again, at once.
	rp3, _ := vaulttest.PutRP(t, v, "rp-3", objs)
	vaulttest.CheckRP(t, v, rp3, objs)

	if st, err = Maintain(ctx, v); err != nil || st.DeletedContents != 0 {
		t.Fatalf("maintain: %+v, %v", st, err)
	}

	vaulttest.CheckRP(t, v, rp3, objs)
}

// TestMaintainRemovesAbortedPacks: packs written by a session that was
// aborted are unreferenced garbage; Maintain removes them.
func TestMaintainRemovesAbortedPacks(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	repoDir := filepath.Join(dir, vaulttest.RepoDir)
	v := vaulttest.CreateOpts(t, dir, vaulttest.SoleWriter)
	defer vaulttest.Close(t, v)

	ctx := vaulttest.Ctx(t)
	keep := []vaulttest.Object{{Key: "k", Data: vaulttest.RandomBytes(1<<20, 5)}}
	m, _ := vaulttest.PutRP(t, v, "keep", keep)
	base := vaulttest.DirSize(t, repoDir)

	w, err := v.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}

	vaulttest.WriteObjects(t, ctx, w, []vaulttest.Object{{Key: "x", Data: vaulttest.RandomBytes(45<<20, 6)}})

	if err := w.Abort(ctx); err != nil {
		t.Fatal(err)
	}

	if grown := vaulttest.DirSize(t, repoDir) - base; grown < 20<<20 {
		t.Fatalf("aborted session left only %d bytes; test expects full packs on disk", grown)
	}

	st, err := Maintain(ctx, v)
	if err != nil {
		t.Fatal(err)
	}

	if left := vaulttest.DirSize(t, repoDir); left > base+(1<<20) || st.DeletedBlobs < 2 {
		t.Errorf("after maintain: %d bytes (base %d), stats %+v", left, base, st)
	}

	vaulttest.CheckRP(t, v, m, keep)
}

// TestRewriteRightAfterSweep: data deleted by Maintain and written again
// immediately afterwards must be readable. Deleted contents get a deletion
// timestamp up to a second in the future when they were written in the
// same second; Maintain must not return before that time is reached.
func TestRewriteRightAfterSweep(t *testing.T) {
	t.Parallel()

	v := vaulttest.CreateOpts(t, t.TempDir(), vaulttest.SoleWriter)
	defer vaulttest.Close(t, v)

	ctx := vaulttest.Ctx(t)

	for i := range 3 {
		objs := []vaulttest.Object{{Key: "k", Data: vaulttest.RandomBytes(10_000, uint64(50+i))}}

		vaulttest.PutRP(t, v, "gone", objs)

		if err := v.DeleteRecoveryPoint(ctx, "gone"); err != nil {
			t.Fatal(err)
		}

		if _, err := Maintain(ctx, v); err != nil {
			t.Fatal(err)
		}

		m, _ := vaulttest.PutRP(t, v, "back", objs)
		vaulttest.CheckRP(t, v, m, objs)

		if err := v.DeleteRecoveryPoint(ctx, "back"); err != nil {
			t.Fatal(err)
		}
	}
}
