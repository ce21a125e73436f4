package chunking

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"
	"testing/iotest"

	"github.com/kopia/kopia/repo"
	"github.com/kopia/kopia/repo/blob/filesystem"
	"github.com/kopia/kopia/repo/compression"
	"github.com/kopia/kopia/repo/format"
	"github.com/kopia/kopia/repo/object"
)

// newRepo creates a kopia repository on disk, with coffer's format, and
// returns a write session on it.
func newRepo(t testing.TB, split string) repo.DirectRepositoryWriter {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()

	st, err := filesystem.New(ctx, &filesystem.Options{Path: filepath.Join(dir, "repo")}, true)
	if err != nil {
		t.Fatal(err)
	}
	opts := &repo.NewRepositoryOptions{
		BlockFormat:  format.ContentFormat{Hash: "BLAKE3-256-128", Encryption: "AES256-GCM-HMAC-SHA256"},
		ObjectFormat: format.ObjectFormat{Splitter: split},
	}
	if err := repo.Initialize(ctx, st, opts, "secret"); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "repo.config")
	if err := repo.Connect(ctx, cfg, st, "secret", &repo.ConnectOptions{}); err != nil {
		t.Fatal(err)
	}
	r, err := repo.Open(ctx, cfg, "secret", &repo.Options{DisableRepositoryLog: true})
	if err != nil {
		t.Fatal(err)
	}
	_, w, err := r.(repo.DirectRepository).NewDirectWriter(ctx, repo.WriteSessionOptions{Purpose: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = w.Close(ctx)
		_ = r.Close(ctx)
	})

	return w
}

// kopiaWrite stores data with kopia's own object writer.
func kopiaWrite(t *testing.T, w repo.DirectRepositoryWriter, data []byte, split string, opts Options) object.ID {
	t.Helper()
	ow := w.NewObjectWriter(context.Background(), object.WriterOptions{
		Description: opts.Description, Compressor: opts.Compressor, MetadataCompressor: opts.MetadataCompressor,
		Splitter: split, AsyncWrites: opts.AsyncWrites,
	})
	defer ow.Close() //nolint:errcheck
	if _, err := ow.Write(data); err != nil {
		t.Fatal(err)
	}
	id, err := ow.Result()
	if err != nil {
		t.Fatal(err)
	}

	return id
}

func TestWriteMatchesKopia(t *testing.T) {
	text := bytes.Repeat([]byte("coffer keeps every version of every object. "), 400_000) // 17.6 MB
	tests := []struct {
		name  string
		split string
		data  []byte
		comp  compression.Name
	}{
		{"empty", "DYNAMIC-4M-BUZHASH", nil, ""},
		{"one byte", "DYNAMIC-4M-BUZHASH", []byte{7}, ""},
		{"one chunk", "DYNAMIC-4M-BUZHASH", random(3<<20, 11), ""},
		{"many chunks random", "DYNAMIC-4M-BUZHASH", random(20<<20, 12), ""},
		{"many chunks at max (zeros), compressed", "DYNAMIC-4M-BUZHASH", make([]byte, 17<<20), "zstd-fastest"},
		{"text compressed", "DYNAMIC-4M-BUZHASH", text, "zstd-fastest"},
		{"exactly max", "DYNAMIC-4M-BUZHASH", make([]byte, 8<<20), ""},
		{"small chunks", "DYNAMIC-128K-BUZHASH", random(3<<20, 13), "zstd-fastest"},
		{"fixed 4M", "FIXED-4M", random(13<<20, 14), ""},
		{"fixed 4M exact multiple", "FIXED-4M", random(8<<20, 15), ""},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := ForKopia(tt.split)
			if !ok {
				t.Fatalf("no splitter for %s", tt.split)
			}
			opts := Options{Description: "test", Compressor: tt.comp, MetadataCompressor: "zstd-fastest", AsyncWrites: 2}

			// Content ids are keyed hashes of the chunks' bytes: equal ids
			// in one repository are equal chunks and an equal index.
			w := newRepo(t, tt.split)
			want := kopiaWrite(t, w, tt.data, tt.split, opts)
			for _, async := range []int{0, 2} {
				opts.AsyncWrites = async
				// One byte per read: chunks end mid-read and reads end
				// mid-window.
				var r io.Reader = bytes.NewReader(tt.data)
				if len(tt.data) < 1<<20 {
					r = iotest.OneByteReader(r)
				}
				got, n, err := Write(context.Background(), w, r, s, opts)
				if err != nil {
					t.Fatal(err)
				}
				if n != int64(len(tt.data)) || got != want {
					t.Fatalf("async %d: wrote %d bytes as %v, kopia %d as %v", async, n, got, len(tt.data), want)
				}
			}

			rd, err := w.OpenObject(context.Background(), want)
			if err != nil {
				t.Fatal(err)
			}
			defer rd.Close() //nolint:errcheck
			back, err := io.ReadAll(rd)
			if err != nil || !bytes.Equal(back, tt.data) {
				t.Fatalf("read back %d bytes (%v), want %d", len(back), err, len(tt.data))
			}
		})
	}
}

func TestWriteReadError(t *testing.T) {
	w := newRepo(t, "DYNAMIC-4M-BUZHASH")
	s, _ := ForKopia("DYNAMIC-4M-BUZHASH")
	r := io.MultiReader(bytes.NewReader(random(10<<20, 16)), iotest.ErrReader(io.ErrUnexpectedEOF))

	_, n, err := Write(context.Background(), w, r, s, Options{AsyncWrites: 2})
	if err == nil || !errors.Is(err, io.ErrUnexpectedEOF) || n != 10<<20 {
		t.Fatalf("Write = %d, %v; want the reader's error after 10 MiB", n, err)
	}
}

func TestWriteNeedsWholeSplitter(t *testing.T) {
	w := newRepo(t, "DYNAMIC-4M-BUZHASH")
	s, _ := ForKopia("DYNAMIC-8M-BUZHASH") // chunks up to 16 MiB: kopia has no FIXED-16M
	if _, _, err := Write(context.Background(), w, bytes.NewReader([]byte("x")), s, Options{}); err == nil {
		t.Fatal("Write accepted a splitter whose chunks kopia cannot keep whole")
	}
}
