package vaultfs

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unsafe"

	"github.com/kopia/kopia/repo/blob"
	"github.com/kopia/kopia/repo/blob/filesystem"
	"golang.org/x/sys/unix"

	"github.com/cofferbackup/coffer/internal/clock"
)

// blobBytes is a blob.Bytes of b.
type blobBytes []byte

func (b blobBytes) WriteTo(w io.Writer) (int64, error) { n, err := w.Write(b); return int64(n), err }
func (b blobBytes) Length() int                        { return len(b) }
func (b blobBytes) Reader() io.ReadSeekCloser          { return nopCloser{bytes.NewReader(b)} }

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// bytesBuffer is a blob.OutputBuffer.
type bytesBuffer struct{ bytes.Buffer }

func (b *bytesBuffer) Length() int { return b.Len() }

// diskDir is a directory on a file system with a page cache: the test
// command puts TMPDIR on tmpfs, whose pages are the files themselves and
// ignore the advice.
func diskDir(t *testing.T) string {
	t.Helper()
	var st unix.Statfs_t
	dir := t.TempDir()
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	if st.Type != unix.TMPFS_MAGIC {
		return dir
	}

	home, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(home, "coffer", "test-disk")
	if err := os.MkdirAll(base, 0o700); err != nil {
		t.Fatal(err)
	}
	dir, err = os.MkdirTemp(base, "vaultfs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := unix.Statfs(dir, &st); err != nil || st.Type == unix.TMPFS_MAGIC {
		t.Fatalf("no directory on a disk file system (%s: %v)", dir, err)
	}

	return dir
}

// cachedPages counts the pages of path in the page cache, of those in
// [from, to) when to > 0.
func cachedPages(t *testing.T, path string, from, to int) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close() //nolint:errcheck
	fi, _ := f.Stat()
	m, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m) //nolint:errcheck
	vec := make([]byte, (len(m)+os.Getpagesize()-1)/os.Getpagesize())
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatal(errno)
	}
	if to > 0 {
		vec = vec[from/os.Getpagesize() : to/os.Getpagesize()]
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}

	return n
}

func TestDataPacksLeaveThePageCache(t *testing.T) {
	ctx := context.Background()
	fo := filesystem.Options{Path: filepath.Join(diskDir(t), "repo")}
	st, err := New(ctx, fo, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx) //nolint:errcheck

	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB, 256 pages
	pages := len(data) / os.Getpagesize()
	paths := st.(*storage).paths
	tests := []struct {
		id     blob.ID
		cached bool
	}{
		{"p0123456789abcdef0123456789abcdef-s1", false}, // a data pack
		{"q0123456789abcdef0123456789abcdef-s1", true},  // a metadata pack
		{"xn0_0123456789abcdef0123456789abcdef-s1-c1", true},
	}
	for _, tt := range tests {
		if err := st.PutBlob(ctx, tt.id, blobBytes(data), blob.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		_, path, err := paths.GetShardedPathAndFilePath(ctx, tt.id)
		if err != nil {
			t.Fatal(err)
		}
		got := cachedPages(t, path, 0, 0)
		if tt.cached && got < pages/2 || !tt.cached && got > pages/16 {
			t.Fatalf("%s: %d of %d pages cached after the write", tt.id, got, pages)
		}

		// Reading a range brings it in; a data pack's range leaves again
		// (what the kernel read ahead past it stays, for the next read).
		var out bytesBuffer
		if err := st.GetBlob(ctx, tt.id, 4096, 512<<10, &out); err != nil || !bytes.Equal(out.Bytes(), data[4096:4096+512<<10]) {
			t.Fatalf("%s: read back %d bytes, %v", tt.id, out.Len(), err)
		}
		got = cachedPages(t, path, 4096, 4096+512<<10)
		if tt.cached && got < pages/4 || !tt.cached && got > pages/32 {
			t.Fatalf("%s: %d of the %d pages read cached after the read", tt.id, got, pages/2)
		}

		// So does the whole blob, read whole.
		out.Reset()
		if err := st.GetBlob(ctx, tt.id, 0, -1, &out); err != nil || !bytes.Equal(out.Bytes(), data) {
			t.Fatalf("%s: read back %d bytes whole, %v", tt.id, out.Len(), err)
		}
		got = cachedPages(t, path, 0, 0)
		if tt.cached && got < pages/2 || !tt.cached && got > pages/16 {
			t.Fatalf("%s: %d of %d pages cached after a whole read", tt.id, got, pages)
		}
	}
}

func TestClockStampsBlobs(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	fo := filesystem.Options{Path: filepath.Join(t.TempDir(), "repo")}
	st, err := New(ctx, fo, clock.NewFake(at), true)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx) //nolint:errcheck

	if err := st.PutBlob(ctx, "pabc", blobBytes([]byte("x")), blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	md, err := st.GetMetadata(ctx, "pabc")
	if err != nil || !md.Timestamp.Equal(at) {
		t.Fatalf("blob time %v (%v), want the clock's %v", md.Timestamp, err, at)
	}
	if ci := st.ConnectionInfo(); ci.Type != StorageType {
		t.Fatalf("connection type %q", ci.Type)
	}

	// kopia reopens the storage from its connection info, clock included.
	again, err := blob.NewStorage(ctx, st.ConnectionInfo(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close(ctx) //nolint:errcheck
	if err := again.PutBlob(ctx, "pdef", blobBytes([]byte("y")), blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if md, err := again.GetMetadata(ctx, "pdef"); err != nil || !md.Timestamp.Equal(at) {
		t.Fatalf("reopened: blob time %v (%v), want %v", md.Timestamp, err, at)
	}
}
