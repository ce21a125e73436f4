package vaultstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cofferbackup/coffer/internal/vault"
)

// Names in the root that are not vaults start with a dot: vaults being
// deleted (renamed first, so a crash never leaves half a vault listed)
// and copies being imported.
const (
	deletingPrefix  = ".deleting-"
	importingPrefix = ".importing-"
)

// FS keeps each vault in a directory <root>/<vault id> (a kopia
// repository, package vault).
type FS struct {
	root      string
	opts      vault.Options
	cacheRoot string // "": each vault's cache inside its directory
	resolve   Resolver
}

// WithCacheRoot keeps each vault's local cache (and its connection config)
// in cacheRoot/<vault id> instead of inside the vault's directory: for
// processes that share the vault directories, each with a cache of its own.
func (f *FS) WithCacheRoot(cacheRoot string) *FS {
	f.cacheRoot = cacheRoot
	return f
}

// vaultOpts are the options vault id opens with.
func (f *FS) vaultOpts(id string) vault.Options {
	o := f.opts
	if f.cacheRoot != "" {
		o.CacheDir = filepath.Join(f.cacheRoot, id)
	}
	return o
}

var _ interface {
	Store
	Importer
} = (*FS)(nil)

// NewFS returns the store in root, creating root, and removes what an
// interrupted delete or import left behind.
func NewFS(root string, opts vault.Options) (*FS, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("vault store %q: %w", root, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("vault store %q: %w", root, err)
	}
	f := &FS{root: abs, opts: opts}
	entries, err := os.ReadDir(abs)
	if err != nil {
		return nil, fmt.Errorf("vault store %q: %w", root, err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), deletingPrefix) || strings.HasPrefix(e.Name(), importingPrefix) {
			if err := os.RemoveAll(filepath.Join(abs, e.Name())); err != nil {
				return nil, fmt.Errorf("vault store %q: remove leftover %s: %w", root, e.Name(), err)
			}
		}
	}
	return f, nil
}

// Root is the directory holding the vaults.
func (f *FS) Root() string { return f.root }

// Location is the directory of vault id.
func (f *FS) Location(id string) string { return filepath.Join(f.root, id) }

// ValidID checks that id can name a vault: not empty, no path separator,
// not starting with a dot (those names are the store's own).
func ValidID(id string) error {
	if id == "" || strings.HasPrefix(id, ".") || strings.ContainsAny(id, `/\`) || id != filepath.Base(id) {
		return fmt.Errorf("%w: %q", ErrInvalidID, id)
	}
	return nil
}

// Create makes vault id.
func (f *FS) Create(ctx context.Context, id, secret string) (*vault.Vault, error) {
	if err := ValidID(id); err != nil {
		return nil, err
	}
	dir := f.Location(id)
	if _, err := os.Lstat(dir); err == nil {
		return nil, fmt.Errorf("create vault %s: %w", id, ErrExists)
	}
	v, err := vault.Create(ctx, dir, secret, f.vaultOpts(id))
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("create vault %s: %w", id, err)
	}
	return v, nil
}

// Open opens vault id.
func (f *FS) Open(ctx context.Context, id, secret string) (*vault.Vault, error) {
	if err := ValidID(id); err != nil {
		return nil, err
	}
	switch ok, err := f.Exists(ctx, id); {
	case err != nil:
		return nil, fmt.Errorf("open vault %s: %w", id, err)
	case !ok:
		return nil, fmt.Errorf("open vault %s: %w", id, ErrNotFound)
	}
	o := f.vaultOpts(id)
	if l, ok, err := f.VaultLocation(id); err != nil {
		return nil, err
	} else if ok {
		if o, err = f.s3Options(ctx, id, l); err != nil {
			return nil, err
		}
	}
	v, err := vault.Open(ctx, f.Location(id), secret, o)
	if err != nil {
		return nil, fmt.Errorf("open vault %s: %w", id, err)
	}
	return v, nil
}

// Exists reports whether the vault's directory is there. Only a root
// that is there and a name absent from it is "not there": a symbolic link
// to a missing target (a disk not mounted) exists, and a root that is
// missing or cannot be searched is an error.
func (f *FS) Exists(_ context.Context, id string) (bool, error) {
	if err := ValidID(id); err != nil {
		return false, err
	}
	if _, err := os.Stat(f.root); err != nil {
		return false, fmt.Errorf("vault store %s: %w", f.root, err)
	}
	_, err := os.Lstat(f.Location(id))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("look for vault %s: %w", id, err)
}

// Delete renames the vault's directory out of the listing, then removes it.
func (f *FS) Delete(_ context.Context, id string) error {
	if err := ValidID(id); err != nil {
		return err
	}
	tomb := filepath.Join(f.root, deletingPrefix+id+"-"+randomSuffix())
	err := os.Rename(f.Location(id), tomb)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete vault %s: %w", id, err)
	}
	if err := os.RemoveAll(tomb); err != nil {
		return fmt.Errorf("delete vault %s: %w", id, err) // NewFS retries at the next start
	}
	if f.cacheRoot != "" {
		// The vault's caches outside its directory go with it.
		if err := os.RemoveAll(filepath.Join(f.cacheRoot, id)); err != nil {
			return fmt.Errorf("delete vault %s: remove its caches: %w", id, err)
		}
	}
	return nil
}

// List returns the vault ids: the directories of the root whose names
// are not the store's own.
func (f *FS) List(context.Context) ([]string, error) {
	entries, err := os.ReadDir(f.root)
	if err != nil {
		return nil, fmt.Errorf("list vaults in %s: %w", f.root, err)
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() && ValidID(e.Name()) == nil {
			ids = append(ids, e.Name())
		}
	}
	sort.Strings(ids)
	return ids, nil
}

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
