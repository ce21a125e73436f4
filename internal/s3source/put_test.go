package s3source

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/testserver"
)

// TestPutObjectRoundTrip restores records through PutObject (small and
// 40 MiB multipart) and reads them back: bytes, metadata and tags equal.
func TestPutObjectRoundTrip(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *testserver.Server, c *Client) {
		bucket := srv.NewBucket(t, true)
		big := make([]byte, 40<<20)
		if _, err := rand.Read(big); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			data []byte
		}{{"small", []byte("restored bytes")}, {"empty", nil}, {"multipart", big}} {
			t.Run(tc.name, func(t *testing.T) {
				rec := &recpoint.Record{
					Key:                "restore/" + tc.name + " +%.txt",
					Size:               int64(len(tc.data)),
					ContentType:        "text/x-coffer",
					ContentEncoding:    "identity",
					ContentDisposition: "inline",
					ContentLanguage:    "fr",
					CacheControl:       "no-cache",
					Expires:            "Wed, 21 Oct 2037 07:28:00 GMT",
					UserMetadata:       map[string]string{"origin": "backup", "content-type": "user key, not the header"},
					Tags:               map[string]string{"restored": "yes", "k 2": "v/2"},
					StorageClass:       "STANDARD",
				}
				start := time.Now()
				vid, err := c.PutObject(testCtx(t), bucket, rec, bytes.NewReader(tc.data), true)
				if err != nil {
					t.Fatalf("PutObject: %v", err)
				}
				if vid == "" || vid == "null" {
					t.Errorf("version id %q on a versioned bucket", vid)
				}
				t.Logf("%s: put %d bytes in %v", srv.Kind, len(tc.data), time.Since(start).Round(time.Millisecond))
				checkRestored(t, c, bucket, rec, vid, tc.data, rec.Tags)
			})
		}
		t.Run("without tags", func(t *testing.T) {
			rec := &recpoint.Record{Key: "notags", Size: 3, Tags: map[string]string{"a": "b"}}
			vid, err := c.PutObject(testCtx(t), bucket, rec, bytes.NewReader([]byte("abc")), false)
			if err != nil {
				t.Fatal(err)
			}
			checkRestored(t, c, bucket, rec, vid, []byte("abc"), map[string]string{})
		})
	})
}

func checkRestored(t *testing.T, c *Client, bucket string, rec *recpoint.Record, vid string, data []byte, tags map[string]string) {
	t.Helper()
	got, meta := readAll(t, c, bucket, rec.Key, vid)
	if sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("read back %d bytes differing from the %d written", len(got), len(data))
	}
	ct := rec.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	um := rec.UserMetadata
	if um == nil {
		um = map[string]string{}
	}
	if meta.ContentType != ct || meta.ContentEncoding != rec.ContentEncoding ||
		meta.ContentDisposition != rec.ContentDisposition || meta.ContentLanguage != rec.ContentLanguage ||
		meta.CacheControl != rec.CacheControl || meta.Expires != rec.Expires || meta.Size != rec.Size ||
		!maps.Equal(meta.UserMetadata, um) && !(len(um) == 0 && len(meta.UserMetadata) == 0) {
		t.Errorf("metadata differs:\nrecord %+v\n  read %+v", rec, meta)
	}
	got2, err := c.Tags(testCtx(t), bucket, rec.Key, vid)
	if err != nil || !maps.Equal(got2, tags) {
		t.Errorf("tags %v (%v), want %v", got2, err, tags)
	}
	if want := len(tags); meta.TagCount != want && !(want == 0 && meta.TagCount == -1) {
		t.Errorf("TagCount %d, want %d", meta.TagCount, want)
	}
}

// TestPutObjectSizeMismatch: a stream shorter or longer than the record's
// size fails and leaves no object behind.
func TestPutObjectSizeMismatch(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *testserver.Server, c *Client) {
		bucket := srv.NewBucket(t, true)
		for _, tc := range []struct {
			name string
			size int64
			data []byte
		}{
			{"short", 10, []byte("12345")},
			{"long", 3, []byte("12345")},
			{"short multipart", 20 << 20, make([]byte, 17<<20)},
		} {
			rec := &recpoint.Record{Key: "mismatch-" + tc.name, Size: tc.size}
			_, err := c.PutObject(testCtx(t), bucket, rec, bytes.NewReader(tc.data), false)
			if !errors.Is(err, ErrSizeMismatch) {
				t.Errorf("%s: PutObject error %v, want ErrSizeMismatch", tc.name, err)
			}
			if ok, err := c.ObjectExists(testCtx(t), bucket, rec.Key); ok || err != nil {
				t.Errorf("%s: object exists after failed put: %v, %v", tc.name, ok, err)
			}
		}
	})
}

// TestDeleteMarkersAndExistence covers PutDeleteMarker and ObjectExists.
func TestDeleteMarkersAndExistence(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *testserver.Server, c *Client) {
		ctx := testCtx(t)
		bucket := srv.NewBucket(t, true)
		rec := &recpoint.Record{Key: "d/k", Size: 1}
		vid, err := c.PutObject(ctx, bucket, rec, bytes.NewReader([]byte("x")), false)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := c.ObjectExists(ctx, bucket, "d/k"); !ok || err != nil {
			t.Fatalf("ObjectExists before delete: %v, %v", ok, err)
		}
		marker, err := c.PutDeleteMarker(ctx, bucket, "d/k")
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := c.ObjectExists(ctx, bucket, "d/k"); ok || err != nil {
			t.Fatalf("ObjectExists after delete: %v, %v", ok, err)
		}
		vs := listAll(t, c, bucket)
		if len(vs) != 2 || !vs[0].DeleteMarker || !vs[0].IsLatest || vs[0].VersionID != marker || vs[1].VersionID != vid || vs[1].IsLatest {
			t.Fatalf("listing after delete (marker %q): %+v", marker, vs)
		}
		for _, k := range []string{"never", "d"} {
			if ok, err := c.ObjectExists(ctx, bucket, k); ok || err != nil {
				t.Errorf("ObjectExists(%q): %v, %v", k, ok, err)
			}
		}
		if data, _ := readAll(t, c, bucket, "d/k", vid); string(data) != "x" {
			t.Errorf("old version reads %q", data)
		}
		if _, err := c.PutDeleteMarker(ctx, bucket+"-missing", "d/k"); !errors.Is(err, ErrNoSuchBucket) {
			t.Errorf("PutDeleteMarker in a missing bucket: %v, want ErrNoSuchBucket", err)
		}
	})
}

// TestCreateBucket: versioned and plain buckets, and ErrBucketExists.
func TestCreateBucket(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *testserver.Server, c *Client) {
		ctx := testCtx(t)
		for _, versioned := range []bool{true, false} {
			name := testserver.UniqueBucketName("create")
			if err := c.CreateBucket(ctx, name, versioned); err != nil {
				t.Fatalf("CreateBucket(%s, %v): %v", name, versioned, err)
			}
			info, err := c.Bucket(ctx, name)
			want := ""
			if versioned {
				want = "Enabled"
			}
			if err != nil || info.Versioning != want || info.ObjectLock {
				t.Errorf("Bucket(%s) = %+v, %v; want versioning %q", name, info, err, want)
			}
			err = c.CreateBucket(ctx, name, versioned)
			if !errors.Is(err, ErrBucketExists) {
				t.Errorf("second CreateBucket: %v, want ErrBucketExists", err)
			}
		}
		if err := c.CreateBucket(ctx, "Invalid_Bucket", false); err == nil {
			t.Error("invalid bucket name accepted")
		}
	})
}

// A reader that is only an io.Reader, to be sure nothing relies on
// io.ReaderAt or io.Seeker.
type plainReader struct{ r io.Reader }

func (p plainReader) Read(b []byte) (int, error) { return p.r.Read(b) }

// TestPutObjectPlainReader streams a multipart object from a plain reader.
func TestPutObjectPlainReader(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *testserver.Server, c *Client) {
		c2, err := New(Config{Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, PartSize: 5 << 20})
		if err != nil {
			t.Fatal(err)
		}
		bucket := srv.NewBucket(t, false)
		data := bytes.Repeat([]byte("0123456789abcdef"), (11<<20)/16+7)
		rec := &recpoint.Record{Key: "plain", Size: int64(len(data))}
		vid, err := c2.PutObject(testCtx(t), bucket, rec, plainReader{bytes.NewReader(data)}, false)
		if err != nil {
			t.Fatal(err)
		}
		checkRestored(t, c, bucket, rec, vid, data, map[string]string{})
		vs := listAll(t, c, bucket)
		if len(vs) != 1 || vs[0].VersionID != "null" || vs[0].Size != int64(len(data)) {
			t.Errorf("listing %+v", vs)
		}
	})
}

// TestUploadETag: UploadETag predicts the ETag the endpoint gives this
// client's upload, single PUT and multipart, at and around the part size.
func TestUploadETag(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *testserver.Server, _ *Client) {
		c, err := New(Config{Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, PartSize: minPartSize})
		if err != nil {
			t.Fatal(err)
		}
		bucket := srv.NewBucket(t, true)
		for _, size := range []int64{0, 1, minPartSize, minPartSize + 1, 2 * minPartSize, 2*minPartSize + 3} {
			data := make([]byte, size)
			for i := range data {
				data[i] = byte(i*7 + int(size))
			}
			rec := &recpoint.Record{Key: fmt.Sprintf("etag-%d", size), Size: size}
			if _, err := c.PutObject(testCtx(t), bucket, rec, plainReader{bytes.NewReader(data)}, false); err != nil {
				t.Fatalf("put %d bytes: %v", size, err)
			}
			m, found, err := c.Current(testCtx(t), bucket, rec.Key)
			if err != nil || !found {
				t.Fatalf("current %q: %v %v", rec.Key, found, err)
			}
			got, err := c.UploadETag(bytes.NewReader(data), size)
			if err != nil {
				t.Fatalf("UploadETag(%d bytes): %v", size, err)
			}
			if !strings.EqualFold(got, m.ETag) {
				t.Errorf("%d bytes: UploadETag %q, endpoint %q", size, got, m.ETag)
			}
		}
		if _, err := c.UploadETag(bytes.NewReader(make([]byte, 10)), 11); err == nil {
			t.Error("UploadETag of a short stream: no error")
		}
	})
}
