//go:build unix

package vault

import (
	"io/fs"
	"path/filepath"
	"syscall"
	"testing"
)

// TestVaultFilesPrivate: with umask 022 nothing in a vault directory
// (blobs, kopia's config and its lock, the caches and their tag) is open
// to group or others after a write, a read, maintenance and a reopen. Not
// parallel: the umask is the process's.
func TestVaultFilesPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	for _, opts := range []Options{{}, {CacheDir: filepath.Join(t.TempDir(), "own-cache")}} {
		dir := filepath.Join(t.TempDir(), "v")
		v := createVaultOpts(t, dir, opts)
		objs := []testObject{{key: "a", data: randomBytes(100, 1)}, {key: "b", data: randomBytes(3<<20, 2)}}
		m, _ := putRP(t, v, "rp1", objs)
		checkRP(t, v, m, objs)
		maintain(t, v)
		closeVault(t, v)
		closeVault(t, openVaultOpts(t, dir, opts))
		for _, root := range []string{dir, opts.CacheDir} {
			if root == "" {
				continue
			}
			err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				info, err := d.Info()
				if err == nil && info.Mode().Perm()&0o077 != 0 {
					t.Errorf("%s: mode %v", path, info.Mode())
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}
