package s3source

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"io"
	"maps"
	"net/http"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/s3utils"
	"github.com/minio/minio-go/v7/pkg/signer"

	"github.com/cofferbackup/coffer/internal/testserver"
)

// TestGetObjectMetadata writes an object with every kind of metadata and
// checks that GetObject returns the bytes and each field exactly.
func TestGetObjectMetadata(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *testserver.Server, c *Client) {
		mc := srv.Client(t)
		bucket := srv.NewBucket(t, true)
		data := []byte("\x1f\x8b pretend gzip bytes \x00\xff")
		expires := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
		vid := putObj(t, mc, bucket, "dir/meta.bin", data, minio.PutObjectOptions{
			ContentType:        "application/x-coffer",
			ContentEncoding:    "gzip",
			ContentDisposition: `attachment; filename="m.bin"`,
			ContentLanguage:    "de-CH",
			CacheControl:       "max-age=60, private",
			Expires:            expires,
			UserMetadata:       map[string]string{"Color": "blue", "x-amz-meta-Two-Words": "a b"},
			UserTags:           map[string]string{"team": "ops", "tier": "gold"},
		})
		putObj(t, mc, bucket, "dir/meta.bin", []byte("newer"), minio.PutObjectOptions{})

		got, meta := readAll(t, c, bucket, "dir/meta.bin", vid)
		if string(got) != string(data) {
			t.Fatalf("data %q, want %q", got, data)
		}
		want := ObjectMeta{
			ETag:               md5hex(data),
			Size:               int64(len(data)),
			LastModified:       meta.LastModified,
			StorageClass:       meta.StorageClass,
			ContentType:        "application/x-coffer",
			ContentEncoding:    "gzip",
			ContentDisposition: `attachment; filename="m.bin"`,
			ContentLanguage:    "de-CH",
			CacheControl:       "max-age=60, private",
			Expires:            expires.Format(http.TimeFormat),
			UserMetadata:       map[string]string{"color": "blue", "two-words": "a b"},
			Checksums:          meta.Checksums,
			TagCount:           2,
		}
		if !metaEqual(meta, want) {
			t.Errorf("meta\n got %+v\nwant %+v", meta, want)
		}
		if time.Since(meta.LastModified) > time.Minute || meta.LastModified.Location() != time.UTC {
			t.Errorf("LastModified %v", meta.LastModified)
		}
		t.Logf("%s: storage class %q, checksums %v, tag count %d", srv.Kind, meta.StorageClass, meta.Checksums, meta.TagCount)
		tags, err := c.Tags(testCtx(t), bucket, "dir/meta.bin", vid)
		if err != nil || !maps.Equal(tags, map[string]string{"team": "ops", "tier": "gold"}) {
			t.Errorf("Tags = %v, %v", tags, err)
		}
		_, plain := readAll(t, c, bucket, "dir/meta.bin", "")
		t.Logf("%s: tag count of an untagged object: %d", srv.Kind, plain.TagCount)
		if plain.TagCount > 0 {
			t.Errorf("untagged version: TagCount %d", plain.TagCount)
		}
		if tags, err := c.Tags(testCtx(t), bucket, "dir/meta.bin", ""); err != nil || len(tags) != 0 {
			t.Errorf("Tags of untagged version = %v, %v", tags, err)
		}
	})
}

func metaEqual(a, b ObjectMeta) bool {
	return a.ETag == b.ETag && a.Size == b.Size && a.LastModified.Equal(b.LastModified) &&
		a.StorageClass == b.StorageClass && a.ContentType == b.ContentType &&
		a.ContentEncoding == b.ContentEncoding && a.ContentDisposition == b.ContentDisposition &&
		a.ContentLanguage == b.ContentLanguage && a.CacheControl == b.CacheControl &&
		a.Expires == b.Expires && maps.Equal(a.UserMetadata, b.UserMetadata) &&
		maps.Equal(a.Checksums, b.Checksums) && a.TagCount == b.TagCount
}

// TestGetObjectChecksums uploads with a CRC32C checksum and reports
// whether the endpoint stores and returns it; a returned one must match.
func TestGetObjectChecksums(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *testserver.Server, c *Client) {
		bucket := srv.NewBucket(t, true)
		data := []byte("checksummed content")
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)))
		want := base64.StdEncoding.EncodeToString(b[:])
		// A plain signed PUT with the checksum header: minio-go only sends
		// checksums as trailers, which versitygw v1.8.0 rejects.
		vid := signedPut(t, srv, bucket, "sum", data, http.Header{"X-Amz-Checksum-Crc32c": {want}})
		_, meta := readAll(t, c, bucket, "sum", vid)
		t.Logf("%s: checksums returned for a CRC32C upload: %v", srv.Kind, meta.Checksums)
		if got, ok := meta.Checksums["CRC32C"]; !ok || got != want {
			t.Errorf("CRC32C %q (present %v), want %q", got, ok, want)
		}
	})
}

// TestGetObjectErrors: missing versions, keys and buckets map to the
// sentinel errors, at GetObject time (not at the first Read).
func TestGetObjectErrors(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *testserver.Server, c *Client) {
		mc := srv.Client(t)
		ctx := testCtx(t)
		bucket := srv.NewBucket(t, true)
		gone := putObj(t, mc, bucket, "k", []byte("v1"), minio.PutObjectOptions{})
		putObj(t, mc, bucket, "k", []byte("v2"), minio.PutObjectOptions{})
		if err := mc.RemoveObject(ctx, bucket, "k", minio.RemoveObjectOptions{VersionID: gone}); err != nil {
			t.Fatal(err)
		}
		putObj(t, mc, bucket, "gone", []byte("x"), minio.PutObjectOptions{})
		deleteMarker(t, mc, bucket, "gone")
		cases := []struct {
			name, bucket, key, vid string
			want                   error
		}{
			{"deleted version", bucket, "k", gone, ErrNotFound},
			{"missing key", bucket, "nope", "", ErrNotFound},
			{"key behind delete marker", bucket, "gone", "", ErrNotFound},
			{"missing bucket", "no-such-bucket-" + srv.Kind, "k", "", ErrNoSuchBucket},
		}
		for _, tc := range cases {
			rc, _, err := c.GetObject(ctx, tc.bucket, tc.key, tc.vid)
			if rc != nil {
				_ = rc.Close()
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("%s: GetObject error %v, want %v", tc.name, err, tc.want)
			}
			if _, err := c.Tags(ctx, tc.bucket, tc.key, tc.vid); !errors.Is(err, tc.want) && tc.name != "key behind delete marker" {
				t.Errorf("%s: Tags error %v, want %v", tc.name, err, tc.want)
			}
		}
		var oe *OpError
		_, _, err := c.GetObject(ctx, bucket, "k", gone)
		if !errors.As(err, &oe) || oe.Bucket != bucket || oe.Key != "k" || oe.VersionID != gone || oe.Code == "" {
			t.Errorf("error lacks context: %#v", err)
		}
		t.Logf("%s: deleted version -> %v", srv.Kind, err)
	})
}

// signedPut writes key with extra request headers and returns its version.
func signedPut(t *testing.T, srv *testserver.Server, bucket, key string, data []byte, h http.Header) string {
	t.Helper()
	u := srv.Endpoint + "/" + bucket + "/" + s3utils.EncodePath(key)
	req, err := http.NewRequestWithContext(testCtx(t), http.MethodPut, u, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	sum := sha256.Sum256(data)
	req.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
	req = signer.SignV4(*req, srv.AccessKey, srv.SecretKey, "", srv.Region)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("signed PUT %q: %s %s", key, resp.Status, body)
	}
	return resp.Header.Get("X-Amz-Version-Id")
}
