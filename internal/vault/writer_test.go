package vault

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/kopia/kopia/repo/object"
)

// TestWriteObjectEverySplitter writes objects into vaults of each
// splitter format: package chunking's path (buzhash, fixed) must store the
// very object kopia's own writer stores, and the splitters it does not
// cover (Rabin-Karp) go through kopia's writer; every object reads back.
func TestWriteObjectEverySplitter(t *testing.T) {
	t.Parallel()

	inputs := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"small", randomBytes(100_000, 1)},
		{"sample size", randomBytes(sampleSize, 2)},
		{"large random", randomBytes(19<<20, 3)},
		{"large text", bytes.Repeat([]byte("every version of every key "), 700_000)},
	}

	for _, split := range []string{"DYNAMIC-4M-BUZHASH", "FIXED-4M", "DYNAMIC-4M-RABINKARP", "DYNAMIC-128K-BUZHASH"} {
		t.Run(split, func(t *testing.T) {
			t.Parallel()
			f := newRepositoryOptions()
			f.ObjectFormat.Splitter = split
			v := createVaultOpts(t, t.TempDir(), Options{format: f})
			defer closeVault(t, v)
			ctx := testCtx(t)

			w, err := v.NewWriter(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Abort(ctx) //nolint:errcheck

			for _, in := range inputs {
				id, n, err := w.WriteObject(ctx, bytes.NewReader(in.data))
				if err != nil || n != int64(len(in.data)) {
					t.Fatalf("%s: WriteObject = %d, %v", in.name, n, err)
				}
				if want := kopiaObject(t, w, in.data); string(id) != want {
					t.Fatalf("%s: object %s, kopia's writer %s", in.name, id, want)
				}

				r, err := w.w.OpenObject(ctx, mustParse(t, id))
				if err != nil {
					t.Fatal(err)
				}
				back, err := io.ReadAll(r)
				_ = r.Close()
				if err != nil || !bytes.Equal(back, in.data) {
					t.Fatalf("%s: read back %d bytes (%v), wrote %d", in.name, len(back), err, len(in.data))
				}
			}
		})
	}
}

// kopiaObject stores data with kopia's own object writer and the options
// WriteObject uses.
func kopiaObject(t *testing.T, w *Writer, data []byte) string {
	t.Helper()
	ow := w.w.NewObjectWriter(testCtx(t), object.WriterOptions{
		Compressor:         compressorFor(data[:min(len(data), sampleSize)]),
		MetadataCompressor: compressor,
		AsyncWrites:        asyncWrites,
	})
	defer ow.Close() //nolint:errcheck
	if _, err := ow.Write(data); err != nil {
		t.Fatal(err)
	}
	id, err := ow.Result()
	if err != nil {
		t.Fatal(err)
	}

	return id.String()
}

func mustParse(t *testing.T, id ObjectID) object.ID {
	t.Helper()
	oid, err := object.ParseID(string(id))
	if err != nil {
		t.Fatal(fmt.Errorf("parse %q: %w", id, err))
	}

	return oid
}
