package vault

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/cofferbackup/coffer/internal/testserver"
)

// TestFSVaultKeepsNoCache: a vault on a file system reads its contents
// from its packs and keeps no cache of them (kopiaCacheDir), and the
// cache an earlier version left in the vault's directory is removed when
// the vault opens.
func TestFSVaultKeepsNoCache(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	v := createVault(t, dir)
	objs := []testObject{{key: "small", data: randomBytes(5000, 1)}, {key: "large", data: randomBytes(3<<20, 2)}}
	_, ids := putRP(t, v, "rp", objs)
	closeVault(t, v)

	stale := filepath.Join(dir, cacheDirName, "contents", "ab")
	if err := os.MkdirAll(stale, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stale, "x.f"), []byte("stale"), 0o600); err != nil {
		t.Fatal(err)
	}

	v = openVault(t, dir)
	defer closeVault(t, v)
	mustNotExist(t, filepath.Join(dir, cacheDirName))
	if v.CacheDir() != "" {
		t.Errorf("CacheDir = %q, want none", v.CacheDir())
	}

	for _, o := range objs {
		if got := readObject(t, v, ids[o.key]); !bytes.Equal(got, o.data) {
			t.Fatalf("object %s differs", o.key)
		}
	}
	mustNotExist(t, filepath.Join(dir, cacheDirName))
}

// TestS3VaultContentCacheBounded: a vault on S3 keeps its caches in
// Options.CacheDir (not in its directory), and reading more data than the
// content cache holds keeps the cache at its size, however recent the
// reads (kopia alone keeps every content read in the last 10 minutes, in
// files and in memory).
func TestS3VaultContentCacheBounded(t *testing.T) {
	t.Parallel()

	srv := testserver.Start(t, testserver.MinIO)
	loc := &S3Location{Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey,
		Bucket: srv.NewBucket(t, false), Prefix: "v/"}
	dir := t.TempDir()
	cache := filepath.Join(t.TempDir(), "c")
	v := createVaultOpts(t, dir, Options{S3: loc, CacheDir: cache})
	defer closeVault(t, v)

	// 1 MiB objects are one content each (kopia splits at 2 MiB or more).
	objs := make([]testObject, 24)
	for i := range objs {
		objs[i] = testObject{key: fmt.Sprintf("o%02d", i), data: randomBytes(1<<20, uint64(i))}
	}

	_, ids := putRP(t, v, "rp", objs)

	for _, o := range objs {
		if got := readObject(t, v, ids[o.key]); !bytes.Equal(got, o.data) {
			t.Fatalf("object %s differs", o.key)
		}
	}

	size := dirSize(t, filepath.Join(cache, "contents"))
	if size == 0 || size > contentCacheBytes {
		t.Fatalf("content cache holds %d bytes after reading 24 MiB, want some and at most %d", size, contentCacheBytes)
	}

	mustNotExist(t, filepath.Join(dir, cacheDirName))
}
