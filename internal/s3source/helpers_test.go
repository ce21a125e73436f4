package s3source

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"io"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/cofferbackup/coffer/internal/testserver"
)

func TestMain(m *testing.M) { testserver.Main(m) }

// eachServer runs fn as a parallel subtest against every real server kind;
// the calling test runs in parallel with the other such tests.
func eachServer(t *testing.T, fn func(t *testing.T, srv *testserver.Server, c *Client)) {
	t.Helper()
	t.Parallel()
	for _, kind := range testserver.Kinds() {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			srv := testserver.Shared(t, kind)
			fn(t, srv, newClient(t, srv))
		})
	}
}

func newClient(t testing.TB, srv *testserver.Server) *Client {
	t.Helper()
	c, err := New(Config{Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Region: srv.Region})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func testCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// putObj writes key with data through the test client and returns the new
// version id.
func putObj(t testing.TB, mc *minio.Client, bucket, key string, data []byte, opts minio.PutObjectOptions) string {
	t.Helper()
	info, err := mc.PutObject(testCtx(t), bucket, key, bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		t.Fatalf("put %q: %v", key, err)
	}
	return info.VersionID
}

// deleteMarker adds a delete marker through the test client and returns
// its version id (found by listing).
func deleteMarker(t testing.TB, mc *minio.Client, bucket, key string) string {
	t.Helper()
	ctx := testCtx(t)
	if err := mc.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{}); err != nil {
		t.Fatalf("delete %q: %v", key, err)
	}
	for o := range mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{WithVersions: true, Prefix: key, Recursive: true}) {
		if o.Err != nil {
			t.Fatalf("list: %v", o.Err)
		}
		if o.Key == key && o.IsLatest {
			if !o.IsDeleteMarker {
				t.Fatalf("latest version of %q is not a delete marker after delete", key)
			}
			return o.VersionID
		}
	}
	t.Fatalf("no latest version of %q after delete", key)
	return ""
}

func listAll(t testing.TB, c *Client, bucket string) []Version {
	t.Helper()
	var vs []Version
	if err := c.ListVersions(testCtx(t), bucket, func(v Version) error {
		vs = append(vs, v)
		return nil
	}); err != nil {
		t.Fatalf("ListVersions: %v", err)
	}
	return vs
}

func readAll(t testing.TB, c *Client, bucket, key, vid string) ([]byte, ObjectMeta) {
	t.Helper()
	rc, meta, err := c.GetObject(testCtx(t), bucket, key, vid)
	if err != nil {
		t.Fatalf("GetObject(%q, %s): %v", key, vid, err)
	}
	defer func() { _ = rc.Close() }()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	return data, meta
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}
