package vaultmaint

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestEncryptedAtRest writes plaintext markers as object data (compressible
// and incompressible), key names, user metadata and manifest fields, then
// checks that no file under the vault directory (repository, config and
// caches) contains any of them.
func TestEncryptedAtRest(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	v := createVault(t, dir)

	markers := []string{
		"PLAINTEXT-MARKER-xyz",
		"secret-key-name-abc",
		"meta-value-MARKER-qrs",
		"meta-name-MARKER-tuv",
		"bucket-MARKER-def",
		testSecret,
	}

	compressible := bytes.Repeat([]byte("PLAINTEXT-MARKER-xyz "), 100_000) // ~2 MiB
	mixed := randomBytes(6<<20, 9)
	for off := 0; off+64 < len(mixed); off += 100_000 {
		copy(mixed[off:], "PLAINTEXT-MARKER-xyz")
	}

	objs := []testObject{
		{key: "secret-key-name-abc", data: compressible, meta: map[string]string{"meta-name-MARKER-tuv": "meta-value-MARKER-qrs"}},
		{key: "secret-key-name-abc/2", data: mixed},
		{key: "tiny", data: []byte("PLAINTEXT-MARKER-xyz")},
	}

	ctx := testCtx(t)

	w, err := v.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}

	ids := writeObjects(t, ctx, w, objs)
	m := manifestFor("rp-enc", objs, writeRecords(t, ctx, w, objs, ids))
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
	checkRP(t, v, m, objs)

	if _, err := v.Maintain(ctx); err != nil {
		t.Fatal(err)
	}

	checkRP(t, v, m, objs)
	closeVault(t, v)

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
	if size := dirSize(t, filepath.Join(dir, repoDirName)); size > int64(len(mixed))+(1<<20) {
		t.Errorf("repository holds %d bytes; compressible data was not compressed", size)
	}
}

// TestMaintainReclaimsSpace: with SafetySoleWriter one Maintain reclaims
// the space of a deleted recovery point, shared data stays.
func TestMaintainReclaimsSpace(t *testing.T) {
	t.Parallel()

	const size = 16 << 20

	dir := t.TempDir()
	repoDir := filepath.Join(dir, repoDirName)
	v := createVaultOpts(t, dir, soleWriter)

	shared := testObject{key: "shared", data: randomBytes(size, 1)}
	objs1 := []testObject{shared, {key: "only-1", data: randomBytes(size, 2)}, {key: "small-1", data: []byte("one")}}
	objs2 := []testObject{shared, {key: "only-2", data: randomBytes(size, 3)}, {key: "small-2", data: []byte("two")}}

	_, ids1 := putRP(t, v, "rp-1", objs1)
	size1 := dirSize(t, repoDir)

	rp2, ids2 := putRP(t, v, "rp-2", objs2)
	size2 := dirSize(t, repoDir)

	if ids1["shared"] != ids2["shared"] {
		t.Fatalf("shared object not deduplicated: %q vs %q", ids1["shared"], ids2["shared"])
	}

	if grown := size2 - size1; grown > size+size/8 {
		t.Fatalf("second recovery point grew the repository by %d bytes, want about %d (dedup)", grown, size)
	}

	ctx := testCtx(t)

	// Nothing to reclaim yet.
	st, err := v.Maintain(ctx)
	if err != nil {
		t.Fatal(err)
	}

	if st.LiveRecoveryPoints != 2 || st.DeletedContents != 0 || st.LiveContents < 6 {
		t.Fatalf("maintain with nothing deleted: %+v", st)
	}

	sizeBefore := dirSize(t, repoDir)

	if err := v.DeleteRecoveryPoint(ctx, "rp-1"); err != nil {
		t.Fatal(err)
	}

	st, err = v.Maintain(ctx)
	if err != nil {
		t.Fatal(err)
	}

	t.Logf("after deleting rp-1: %+v", st)

	sizeAfter := dirSize(t, repoDir)
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

	checkRP(t, v, rp2, objs2)

	if _, err := v.OpenObject(ctx, ids1["only-1"]); !errors.Is(err, ErrNotFound) {
		t.Errorf("reclaimed object: OpenObject = %v, want ErrNotFound", err)
	}

	// The state survives reopening.
	closeVault(t, v)
	v = openVaultOpts(t, dir, soleWriter)
	defer func() { closeVault(t, v) }()

	checkRP(t, v, rp2, objs2)

	deleteAllAndRewrite(t, v, repoDir, objs1)
}

// deleteAllAndRewrite deletes the only recovery point left (rp-2),
// maintains, expects an almost empty repository, then writes objs again
// right away and expects them back intact.
func deleteAllAndRewrite(t *testing.T, v *Vault, repoDir string, objs []testObject) {
	t.Helper()

	ctx := testCtx(t)

	if err := v.DeleteRecoveryPoint(ctx, "rp-2"); err != nil {
		t.Fatal(err)
	}

	st, err := v.Maintain(ctx)
	if err != nil {
		t.Fatal(err)
	}

	t.Logf("after deleting rp-2: %+v", st)

	if left := dirSize(t, repoDir); left > 1<<20 || st.LiveRecoveryPoints != 0 || st.LiveContents != 0 {
		t.Errorf("after deleting everything: %d bytes left, stats %+v", left, st)
	}

	// Data deleted and dropped can be written again, at once.
	rp3, _ := putRP(t, v, "rp-3", objs)
	checkRP(t, v, rp3, objs)

	if st, err = v.Maintain(ctx); err != nil || st.DeletedContents != 0 {
		t.Fatalf("maintain: %+v, %v", st, err)
	}

	checkRP(t, v, rp3, objs)
}

// TestMaintainRemovesAbortedPacks: packs written by a session that was
// aborted are unreferenced garbage; Maintain removes them.
func TestMaintainRemovesAbortedPacks(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	repoDir := filepath.Join(dir, repoDirName)
	v := createVaultOpts(t, dir, soleWriter)
	defer closeVault(t, v)

	ctx := testCtx(t)
	keep := []testObject{{key: "k", data: randomBytes(1<<20, 5)}}
	m, _ := putRP(t, v, "keep", keep)
	base := dirSize(t, repoDir)

	w, err := v.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}

	writeObjects(t, ctx, w, []testObject{{key: "x", data: randomBytes(45<<20, 6)}})

	if err := w.Abort(ctx); err != nil {
		t.Fatal(err)
	}

	if grown := dirSize(t, repoDir) - base; grown < 20<<20 {
		t.Fatalf("aborted session left only %d bytes; test expects full packs on disk", grown)
	}

	st, err := v.Maintain(ctx)
	if err != nil {
		t.Fatal(err)
	}

	if left := dirSize(t, repoDir); left > base+(1<<20) || st.DeletedBlobs < 2 {
		t.Errorf("after maintain: %d bytes (base %d), stats %+v", left, base, st)
	}

	checkRP(t, v, m, keep)
}

// TestRewriteRightAfterSweep: data deleted by Maintain and written again
// immediately afterwards must be readable. Deleted contents get a deletion
// timestamp up to a second in the future when they were written in the
// same second; Maintain must not return before that time is reached.
func TestRewriteRightAfterSweep(t *testing.T) {
	t.Parallel()

	v := createVaultOpts(t, t.TempDir(), soleWriter)
	defer closeVault(t, v)

	ctx := testCtx(t)

	for i := range 3 {
		objs := []testObject{{key: "k", data: randomBytes(10_000, uint64(50+i))}}

		putRP(t, v, "gone", objs)

		if err := v.DeleteRecoveryPoint(ctx, "gone"); err != nil {
			t.Fatal(err)
		}

		if _, err := v.Maintain(ctx); err != nil {
			t.Fatal(err)
		}

		m, _ := putRP(t, v, "back", objs)
		checkRP(t, v, m, objs)

		if err := v.DeleteRecoveryPoint(ctx, "back"); err != nil {
			t.Fatal(err)
		}
	}
}
