package vaultstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/vault"
)

const secret = "test-secret"

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func newFS(t *testing.T) *FS {
	t.Helper()
	f, err := NewFS(filepath.Join(t.TempDir(), "vaults"), vault.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func closeV(t *testing.T, v *vault.Vault) {
	t.Helper()
	if err := v.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestFSLifecycle(t *testing.T) {
	ctx := testCtx(t)
	f := newFS(t)
	for _, id := range []string{"v-b", "v-a"} {
		v, err := f.Create(ctx, id, secret)
		if err != nil {
			t.Fatal(err)
		}
		closeV(t, v)
	}
	// Names that are not vaults are not listed.
	if err := os.WriteFile(filepath.Join(f.Root(), "stray-file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(f.Root(), ".hidden"), 0o700); err != nil {
		t.Fatal(err)
	}
	if ids, err := f.List(ctx); err != nil || !reflect.DeepEqual(ids, []string{"v-a", "v-b"}) {
		t.Fatalf("List: %v, %v", ids, err)
	}
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"create existing", func() error { _, err := f.Create(ctx, "v-a", secret); return err }, ErrExists},
		{"open missing", func() error { _, err := f.Open(ctx, "v-zz", secret); return err }, ErrNotFound},
		{"wrong secret", func() error { _, err := f.Open(ctx, "v-a", "other"); return err }, vault.ErrWrongPassword},
		{"path id", func() error { _, err := f.Open(ctx, "../v-a", secret); return err }, ErrInvalidID},
		{"dot id", func() error { _, err := f.Create(ctx, ".deleting-x", secret); return err }, ErrInvalidID},
		{"delete missing", func() error { return f.Delete(ctx, "v-zz") }, nil},
	}
	for _, tt := range tests {
		if err := tt.call(); !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	v, err := f.Open(ctx, "v-a", secret)
	if err != nil {
		t.Fatal(err)
	}
	closeV(t, v)
	if err := f.Delete(ctx, "v-a"); err != nil {
		t.Fatal(err)
	}
	if ids, err := f.List(ctx); err != nil || !reflect.DeepEqual(ids, []string{"v-b"}) {
		t.Fatalf("List after delete: %v, %v", ids, err)
	}
	// A delete or import interrupted by a crash is cleaned up at the next start.
	for _, n := range []string{deletingPrefix + "v-x-1", importingPrefix + "v-y-2"} {
		if err := os.MkdirAll(filepath.Join(f.Root(), n, "repo"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := NewFS(f.Root(), vault.Options{}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{deletingPrefix + "v-x-1", importingPrefix + "v-y-2"} {
		if _, err := os.Stat(filepath.Join(f.Root(), n)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("leftover %s not removed: %v", n, err)
		}
	}
}

// TestFSDeleteRemovesOutsideCaches: a vault whose caches live under a
// cache root (coffer server --cache-dir) loses them when it is deleted;
// another vault's stay.
func TestFSDeleteRemovesOutsideCaches(t *testing.T) {
	ctx := testCtx(t)
	root := t.TempDir()
	f := newFS(t).WithCacheRoot(root)
	for _, id := range []string{"v-a", "v-b"} {
		v, err := f.Create(ctx, id, secret)
		if err != nil {
			t.Fatal(err)
		}
		closeV(t, v)
		// What the cache of a vault on S3 would hold (one on a file
		// system keeps none).
		if err := os.MkdirAll(filepath.Join(root, id, "contents"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Delete(ctx, "v-a"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "v-a")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("deleted vault's cache left behind: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "v-b")); err != nil {
		t.Errorf("other vault's cache removed: %v", err)
	}
}

func TestFSImport(t *testing.T) {
	tests := []struct {
		name      string
		crossFS   bool // rename fails with EXDEV: copy and verify
		wantMoved bool
	}{
		{"same filesystem", false, true},
		{"other filesystem", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			if tt.crossFS {
				rename = func(string, string) error { return &os.LinkError{Op: "rename", Err: syscall.EXDEV} }
				t.Cleanup(func() { rename = os.Rename })
			}
			other, f := newFS(t), newFS(t)
			v, err := other.Create(ctx, "v-1", secret)
			if err != nil {
				t.Fatal(err)
			}
			if err := v.PutDescriptor(ctx, vault.Descriptor{ID: "v-1", Name: "moved"}); err != nil {
				t.Fatal(err)
			}
			closeV(t, v)
			src := other.Location("v-1")
			imp, err := f.Import(ctx, src, "v-1")
			if err != nil {
				t.Fatal(err)
			}
			if imp.Moved != tt.wantMoved {
				t.Fatalf("Moved = %v, want %v", imp.Moved, tt.wantMoved)
			}
			if _, err := os.Stat(src); (err == nil) == tt.wantMoved {
				t.Fatalf("source after import: %v (moved %v)", err, tt.wantMoved)
			}
			v, err = f.Open(ctx, "v-1", secret)
			if err != nil {
				t.Fatal(err)
			}
			if d, err := v.Descriptor(ctx); err != nil || d.Name != "moved" {
				t.Fatalf("descriptor of imported vault: %+v, %v", d, err)
			}
			closeV(t, v)
			if _, err := f.Import(ctx, src, "v-1"); !errors.Is(err, ErrExists) {
				t.Fatalf("second import: %v, want ErrExists", err)
			}
			if err := imp.Undo(); err != nil {
				t.Fatal(err)
			}
			if ids, _ := f.List(ctx); len(ids) != 0 {
				t.Fatalf("vaults after undo: %v", ids)
			}
			if _, err := os.Stat(filepath.Join(src, "repo")); err != nil {
				t.Fatalf("source after undo: %v", err)
			}
		})
	}
}

func TestVerifyCopyDetectsDifferences(t *testing.T) {
	ctx := testCtx(t)
	src, dst := t.TempDir(), t.TempDir()
	for _, d := range []string{src, dst} {
		if err := os.WriteFile(filepath.Join(d, "a"), []byte("same"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := verifyCopy(ctx, src, dst); err != nil {
		t.Fatalf("equal trees: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dst, "a"), []byte("diff"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := verifyCopy(ctx, src, dst); err == nil {
		t.Fatal("a changed byte went unnoticed")
	}
	if err := os.WriteFile(filepath.Join(dst, "a"), []byte("same"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "extra"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := verifyCopy(ctx, src, dst); err == nil {
		t.Fatal("an extra file went unnoticed")
	}
}

// TestFSExists: "not there" only when the root is there and the name is
// absent from it; a link to a missing target (a disk not mounted) is
// there, and a root that cannot be looked at is an error, never "absent".
func TestFSExists(t *testing.T) {
	ctx := testCtx(t)
	for _, tt := range []struct {
		name    string
		prepare func(t *testing.T, f *FS, id string)
		want    bool
		wantErr bool
	}{
		{"absent", func(*testing.T, *FS, string) {}, false, false},
		{"directory", func(t *testing.T, f *FS, id string) { mustDo(t, os.Mkdir(f.Location(id), 0o700)) }, true, false},
		{"file in its place", func(t *testing.T, f *FS, id string) { mustDo(t, os.WriteFile(f.Location(id), nil, 0o600)) }, true, false},
		{"link to a missing target", func(t *testing.T, f *FS, id string) {
			mustDo(t, os.Symlink(filepath.Join(t.TempDir(), "unmounted", id), f.Location(id)))
		}, true, false},
		{"link loop", func(t *testing.T, f *FS, id string) { mustDo(t, os.Symlink(f.Location(id), f.Location(id))) }, true, false},
		{"root removed", func(t *testing.T, f *FS, _ string) { mustDo(t, os.RemoveAll(f.Root())) }, false, true},
		{"root replaced by a file", func(t *testing.T, f *FS, _ string) {
			mustDo(t, os.RemoveAll(f.Root()))
			mustDo(t, os.WriteFile(f.Root(), nil, 0o600))
		}, false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFS(t)
			tt.prepare(t, f, "v-1")
			got, err := f.Exists(ctx, "v-1")
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Fatalf("Exists = %v, %v; want %v, error %v", got, err, tt.want, tt.wantErr)
			}
			if _, err := f.Open(ctx, "v-1", secret); errors.Is(err, ErrNotFound) != (!tt.want && !tt.wantErr) {
				t.Fatalf("Open: %v; ErrNotFound only when absent", err)
			}
		})
	}
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
