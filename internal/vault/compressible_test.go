package vault

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/kopia/kopia/repo/compression"
	"github.com/kopia/kopia/repo/content"
	"github.com/kopia/kopia/repo/object"
)

// TestCompressionBySample: an object is compressed when its start
// compresses and stored as it is otherwise, each content's index entry
// saying which, and both read back byte for byte.
func TestCompressionBySample(t *testing.T) {
	t.Parallel()

	text := []byte(strings.Repeat("the quick brown fox jumps over the lazy dog\n", 3000)) // 132,000 B
	random := randomBytes(len(text), 7)

	tests := []struct {
		name string
		data []byte
		want compression.HeaderID
	}{
		{"text", text, compression.ByName[compressor].HeaderID()},
		{"random", random, content.NoCompression},
		{"short text", text[:100], compression.ByName[compressor].HeaderID()},
		{"short random", random[:100], content.NoCompression},
		// The sample decides: random first, compressible after it.
		{"random then text", append(append([]byte{}, random[:sampleSize]...), text...), content.NoCompression},
		{"text then random", append(append([]byte{}, text[:sampleSize]...), random...), compression.ByName[compressor].HeaderID()},
	}

	v := createVault(t, t.TempDir())
	defer closeVault(t, v)

	objs := make([]testObject, len(tests))
	for i, tc := range tests {
		objs[i] = testObject{key: tc.name, data: tc.data}
	}

	m, ids := putRP(t, v, "rp", objs)

	for _, tc := range tests {
		oid, err := object.ParseID(string(ids[tc.name]))
		if err != nil {
			t.Fatal(err)
		}

		cid, _, ok := oid.ContentID()
		if !ok {
			t.Fatalf("%s: object %v is not a single content", tc.name, oid)
		}

		info, err := v.rep.ContentInfo(testCtx(t), cid)
		if err != nil {
			t.Fatal(err)
		}

		if info.CompressionHeaderID != tc.want {
			t.Errorf("%s: stored with compression %#x, want %#x", tc.name, info.CompressionHeaderID, tc.want)
		}

		if got := readObject(t, v, ids[tc.name]); !bytes.Equal(got, tc.data) {
			t.Errorf("%s: read back %d bytes that differ from the %d written", tc.name, len(got), len(tc.data))
		}
	}

	checkRP(t, v, m, objs)
}

// TestLegacyFormatReadable: a vault created in the format of earlier
// versions (BLAKE2b content hashes, every object compressed) keeps its
// format, reads back, and takes new objects in it.
func TestLegacyFormatReadable(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	old := []testObject{
		{key: "text", data: bytes.Repeat([]byte("coffer legacy vault "), 10_000)},
		{key: "random", data: randomBytes(300_000, 1)},
		{key: "large", data: randomBytes(9<<20, 2)}, // several contents and an index object
	}

	v := createVaultOpts(t, dir, Options{format: legacyFormat()})
	m1, _ := putRP(t, v, "old", old)
	closeVault(t, v)

	v = openVault(t, dir)
	defer closeVault(t, v)

	if h := v.rep.ContentReader().ContentFormat().GetHashFunction(); h != "BLAKE2B-256-128" {
		t.Fatalf("reopened legacy vault hashes with %s, want its own BLAKE2B-256-128", h)
	}

	checkRP(t, v, m1, old)

	more := []testObject{{key: "new", data: randomBytes(200_000, 3)}, {key: "text", data: old[0].data}}
	m2, _ := putRP(t, v, "new", more)
	checkRP(t, v, m2, more)
	checkRP(t, v, m1, old)

	fresh := createVault(t, t.TempDir())
	defer closeVault(t, fresh)

	if h := fresh.rep.ContentReader().ContentFormat().GetHashFunction(); h != contentHash {
		t.Fatalf("new vault hashes with %s, want %s", h, contentHash)
	}
}

// failingReader returns data, then err.
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}

	n := copy(p, f.data)
	f.data = f.data[n:]

	return n, nil
}

// TestWriteObjectPassesReadErrors: a body cut short (io.ErrUnexpectedEOF)
// or failing, within the sample or after it, fails the write with that
// error, so that the caller retries it rather than store a short object.
func TestWriteObjectPassesReadErrors(t *testing.T) {
	t.Parallel()

	v := createVault(t, t.TempDir())
	defer closeVault(t, v)

	ctx := testCtx(t)

	w, err := v.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort(ctx) //nolint:errcheck // nothing to keep

	boom := errors.New("boom")
	for _, tc := range []struct {
		name string
		n    int
		err  error
	}{
		{"short in sample", 1000, io.ErrUnexpectedEOF},
		{"short after sample", 3 * sampleSize, io.ErrUnexpectedEOF},
		{"failing in sample", 10, boom},
		{"failing at once", 0, boom},
	} {
		_, _, err := w.WriteObject(ctx, &failingReader{data: randomBytes(tc.n, 9), err: tc.err})
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: WriteObject = %v, want %v", tc.name, err, tc.err)
		}
	}
}
