//go:build unix

package vault_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/cofferbackup/coffer/internal/testserver"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vault/vaulttest"
)

// TestVaultFilesPrivate: with umask 022 nothing in a vault directory
// (blobs, kopia's config and its lock, the caches of a vault on S3 and
// their tag) is open to group or others after a write, a read, maintenance and a reopen. Not
// parallel: the umask is the process's.
func TestVaultFilesPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	srv := testserver.Start(t, testserver.MinIO)
	onS3 := &vault.S3Location{Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey,
		Bucket: srv.NewBucket(t, false)}
	for _, opts := range []vault.Options{{}, {CacheDir: filepath.Join(t.TempDir(), "own-cache")}, {S3: onS3},
		{S3: onS3, CacheDir: filepath.Join(t.TempDir(), "own-cache")}} {
		if opts.S3 != nil {
			loc := *opts.S3
			loc.Prefix = testserver.UniqueBucketName("v") + "/"
			opts.S3 = &loc
		}
		dir := filepath.Join(t.TempDir(), "v")
		v := vaulttest.CreateOpts(t, dir, opts)
		objs := []vaulttest.Object{{Key: "a", Data: vaulttest.RandomBytes(100, 1)}, {Key: "b", Data: vaulttest.RandomBytes(3<<20, 2)}}
		m, _ := vaulttest.PutRP(t, v, "rp1", objs)
		vaulttest.CheckRP(t, v, m, objs)
		mustMaintain(t, v)
		vaulttest.Close(t, v)
		vaulttest.Close(t, vaulttest.OpenOpts(t, dir, opts))
		for _, root := range []string{dir, opts.CacheDir} {
			if _, err := os.Stat(root); root == "" || (opts.S3 == nil && errors.Is(err, os.ErrNotExist)) {
				continue // a vault on a file system keeps no cache
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
