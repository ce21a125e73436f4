package s3source

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/testserver"
)

// TestConditionalWrites: both test servers honour If-None-Match: * on
// PutObject and CompleteMultipartUpload (docs/operations.md): the probe
// says so and leaves nothing behind, a key that exists (or appears between
// CreateMultipartUpload and CompleteMultipartUpload) is not replaced, and a
// key whose current version is a delete marker counts as absent on MinIO
// but as present on versitygw v1.8.0 (its 412 there is a quirk the restore
// works around).
func TestConditionalWrites(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *testserver.Server, _ *Client) {
		for _, versioned := range []bool{true, false} {
			name := map[bool]string{true: "versioned", false: "unversioned"}[versioned]
			t.Run(name, func(t *testing.T) {
				testConditionalWrites(t, srv, versioned)
			})
		}
	})
}

func testConditionalWrites(t *testing.T, srv *testserver.Server, versioned bool) {
	mc := srv.Client(t)
	bucket := srv.NewBucket(t, versioned)
	// The proxy writes an intruder into a key when its first part is
	// uploaded: after CreateMultipartUpload, before CompleteMultipartUpload.
	var intrudeKey atomic.Value
	intrudeKey.Store("")
	c := faultProxy(t, srv, func(_ http.ResponseWriter, r *http.Request) bool {
		k := intrudeKey.Load().(string)
		if k != "" && r.Method == http.MethodPut && r.URL.Query().Has("partNumber") &&
			strings.HasSuffix(r.URL.Path, "/"+k) && intrudeKey.CompareAndSwap(k, "") {
			putObj(t, mc, bucket, k, []byte("intruder"), minio.PutObjectOptions{})
		}
		return false
	})
	c.cfg.PartSize = minPartSize
	ctx := testCtx(t)

	ok, err := c.ConditionalWrites(ctx, bucket)
	if err != nil || !ok {
		t.Fatalf("ConditionalWrites = %v, %v; want true on %s", ok, err, srv.Kind)
	}
	if vs := listAll(t, c, bucket); len(vs) != 0 {
		t.Fatalf("the probe left %d entries: %+v", len(vs), vs)
	}

	small := []byte("restored")
	big := bytes.Repeat([]byte("m"), minPartSize+1<<20)
	putObj(t, mc, bucket, "exists", []byte("theirs"), minio.PutObjectOptions{})
	putObj(t, mc, bucket, "exists-big", []byte("theirs"), minio.PutObjectOptions{})
	if versioned {
		putObj(t, mc, bucket, "deleted", []byte("old"), minio.PutObjectOptions{})
		deleteMarker(t, mc, bucket, "deleted")
	}
	for _, tc := range []struct {
		key, intrude string
		data         []byte
		refused      bool
	}{
		{key: "absent", data: small},
		{key: "absent-big", data: big},
		{key: "exists", data: small, refused: true},
		{key: "exists-big", data: big, refused: true},
		{key: "appears-during-upload", intrude: "appears-during-upload", data: big, refused: true},
		{key: "deleted", data: small, refused: srv.Kind == testserver.VersityGW},
	} {
		if tc.key == "deleted" && !versioned {
			continue
		}
		intrudeKey.Store(tc.intrude)
		rec := &recpoint.Record{Key: tc.key, Size: int64(len(tc.data))}
		_, err := c.PutObjectIfAbsent(ctx, bucket, rec, bytes.NewReader(tc.data), false)
		if tc.key == "deleted" && tc.refused {
			if _, exists, _ := c.Current(ctx, bucket, tc.key); !errors.Is(err, ErrPreconditionFailed) || exists {
				t.Errorf("%s: PutObjectIfAbsent over a delete marker = %v (current version: %v), want the quirk's 412", tc.key, err, exists)
			}
			continue
		}
		got, _ := readAll(t, c, bucket, tc.key, "")
		switch {
		case tc.refused && !errors.Is(err, ErrPreconditionFailed):
			t.Errorf("%s: PutObjectIfAbsent = %v, want ErrPreconditionFailed", tc.key, err)
		case tc.refused && (string(got) != "theirs" && string(got) != "intruder"):
			t.Errorf("%s: replaced by the refused write (%d bytes)", tc.key, len(got))
		case !tc.refused && (err != nil || !bytes.Equal(got, tc.data)):
			t.Errorf("%s: PutObjectIfAbsent = %v, read %d bytes, want %d", tc.key, err, len(got), len(tc.data))
		}
	}
	for info := range mc.ListIncompleteUploads(ctx, bucket, "", true) {
		t.Errorf("refused multipart upload left behind: %q %s (%v)", info.Key, info.UploadID, info.Err)
	}
}

// TestConditionalProbeLeftovers: probe objects that a process killed
// between writing and removing its probe left (two versions on a
// versioned bucket, as a kill after the second write leaves) are removed,
// every version, by the next probe of the bucket; other keys stay.
func TestConditionalProbeLeftovers(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *testserver.Server, c *Client) {
		for _, versioned := range []bool{true, false} {
			t.Run(map[bool]string{true: "versioned", false: "unversioned"}[versioned], func(t *testing.T) {
				mc := srv.Client(t)
				bucket := srv.NewBucket(t, versioned)
				putObj(t, mc, bucket, ProbePrefix+"dead1", nil, minio.PutObjectOptions{})
				putObj(t, mc, bucket, ProbePrefix+"dead1", nil, minio.PutObjectOptions{})
				putObj(t, mc, bucket, ProbePrefix+"dead2", nil, minio.PutObjectOptions{})
				putObj(t, mc, bucket, "theirs", []byte("kept"), minio.PutObjectOptions{})
				if _, err := newClient(t, srv).ConditionalWrites(testCtx(t), bucket); err != nil {
					t.Fatal(err)
				}
				vs := listAll(t, c, bucket)
				if len(vs) != 1 || vs[0].Key != "theirs" {
					t.Fatalf("after the probe the bucket holds %+v, want only \"theirs\"", vs)
				}
			})
		}
	})
}
