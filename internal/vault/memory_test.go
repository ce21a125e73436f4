package vault

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
)

// TestContentCacheBounded: reading more data than the content cache holds
// keeps the cache at its size, however recent the reads (kopia alone keeps
// every content read in the last 10 minutes, in files and in memory).
func TestContentCacheBounded(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	v := createVault(t, dir)
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

	if size := dirSize(t, filepath.Join(dir, cacheDirName, "contents")); size > contentCacheBytes {
		t.Fatalf("content cache holds %d bytes after reading 24 MiB, limit %d", size, contentCacheBytes)
	}
}
