package vaultstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// rename is os.Rename; tests replace it to take the copy path.
var rename = os.Rename

// cacheDirName is the vault's disposable local cache (package vault),
// not worth copying.
const cacheDirName = "cache"

// Import brings src in as vault id: renamed when src is on the store's
// filesystem, else copied (without its cache), verified file by file
// against src, and renamed into place, so the vault appears whole or not
// at all. A copied src is left as it was.
func (f *FS) Import(ctx context.Context, src, id string) (Imported, error) {
	if err := ValidID(id); err != nil {
		return Imported{}, err
	}
	src, err := filepath.Abs(src)
	if err != nil {
		return Imported{}, fmt.Errorf("import vault %s: %w", id, err)
	}
	dst := f.Location(id)
	if _, err := os.Lstat(dst); err == nil {
		return Imported{}, fmt.Errorf("import vault %s: %w", id, ErrExists)
	}
	if st, err := os.Stat(src); err != nil || !st.IsDir() {
		return Imported{}, fmt.Errorf("import vault %s: %q is not a directory: %w", id, src, errOrNotDir(err))
	}
	err = rename(src, dst)
	if err == nil {
		return Imported{Moved: true, Undo: func() error { return os.Rename(dst, src) }}, nil
	}
	if !errors.Is(err, syscall.EXDEV) {
		return Imported{}, fmt.Errorf("import vault %s: %w", id, err)
	}
	tmp := filepath.Join(f.root, importingPrefix+id+"-"+randomSuffix())
	if err := copyVault(ctx, src, tmp); err != nil {
		_ = os.RemoveAll(tmp)
		return Imported{}, fmt.Errorf("import vault %s: copy %s: %w", id, src, err)
	}
	if err := verifyCopy(ctx, src, tmp); err != nil {
		_ = os.RemoveAll(tmp)
		return Imported{}, fmt.Errorf("import vault %s: verify copy of %s: %w", id, src, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		_ = os.RemoveAll(tmp)
		return Imported{}, fmt.Errorf("import vault %s: %w", id, err)
	}
	return Imported{Undo: func() error { return f.Delete(context.Background(), id) }}, nil
}

func errOrNotDir(err error) error {
	if err != nil {
		return err
	}
	return syscall.ENOTDIR
}

// walkVault calls fn for every directory and regular file under root
// except the cache, with its path relative to root. Anything else (a
// symlink, a device) is refused: a vault has none.
func walkVault(ctx context.Context, root string, fn func(rel string, d fs.DirEntry) error) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		if d.IsDir() && rel == cacheDirName {
			return filepath.SkipDir
		}
		if !d.IsDir() && !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file", path)
		}
		return fn(rel, d)
	})
}

func copyVault(ctx context.Context, src, dst string) error {
	return walkVault(ctx, src, func(rel string, d fs.DirEntry) error {
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o700)
		}
		return copyFile(filepath.Join(src, rel), to)
	})
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil { // durable before the rename publishes it
		out.Close()
		return err
	}
	return out.Close()
}

// verifyCopy checks that every file of src has a copy in dst with the same
// SHA-256, and that dst holds nothing else.
func verifyCopy(ctx context.Context, src, dst string) error {
	want := 0
	err := walkVault(ctx, src, func(rel string, d fs.DirEntry) error {
		if d.IsDir() {
			return nil
		}
		want++
		a, err := fileSum(filepath.Join(src, rel))
		if err != nil {
			return err
		}
		b, err := fileSum(filepath.Join(dst, rel))
		if err != nil {
			return err
		}
		if !bytes.Equal(a, b) {
			return fmt.Errorf("%s: copy differs from the original", rel)
		}
		return nil
	})
	if err != nil {
		return err
	}
	got := 0
	err = walkVault(ctx, dst, func(_ string, d fs.DirEntry) error {
		if !d.IsDir() {
			got++
		}
		return nil
	})
	if err == nil && got != want {
		err = fmt.Errorf("copy holds %d files, the original %d", got, want)
	}
	return err
}

func fileSum(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}
