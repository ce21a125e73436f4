package s3source

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/cofferbackup/coffer/internal/testserver"
)

// want is one expected listing entry.
type want struct {
	key    string
	vid    string
	dm     bool
	latest bool
	data   []byte
}

// TestListVersionsOrder writes several versions and delete markers per key
// and checks the listing entry by entry, with the endpoint's page size and
// with tiny pages (paging across versions of one key).
func TestListVersionsOrder(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *testserver.Server, c *Client) {
		mc := srv.Client(t)
		bucket := srv.NewBucket(t, true)
		// Per key, the operations oldest first; nil data = delete marker.
		ops := []struct {
			key  string
			data []byte
		}{
			{"b", []byte("b1")}, {"a", []byte("a1")}, {"a", []byte("a2-longer")}, {"a", []byte("a3")},
			{"b", []byte("b2")}, {"b", nil},
			{"c/d", []byte("cd1")}, {"c/d", nil}, {"c/d", []byte("cd3")},
			{"c-e", []byte("ce1")}, {"e", []byte("")}, {"e", nil}, {"e", nil},
		}
		perKey := map[string][]want{}
		for _, op := range ops {
			w := want{key: op.key, data: op.data}
			if op.data == nil {
				w.dm = true
				w.vid = deleteMarker(t, mc, bucket, op.key)
				if prev := perKey[op.key]; len(prev) > 0 && prev[0].vid == w.vid {
					t.Logf("%s: deleting %q again added no second delete marker", srv.Kind, op.key)
					continue
				}
			} else {
				w.vid = putObj(t, mc, bucket, op.key, op.data, minio.PutObjectOptions{})
			}
			perKey[op.key] = append([]want{w}, perKey[op.key]...) // newest first
		}
		var expect []want
		for _, k := range []string{"a", "b", "c-e", "c/d", "e"} { // byte order
			vs := perKey[k]
			vs[0].latest = true
			expect = append(expect, vs...)
		}
		for _, page := range []int{0, 2} {
			t.Run(fmt.Sprintf("page=%d", page), func(t *testing.T) {
				c.pageSize = page
				got := listAll(t, c, bucket)
				checkListing(t, got, expect)
			})
		}
	})
}

func checkListing(t *testing.T, got []Version, expect []want) {
	t.Helper()
	if len(got) != len(expect) {
		for _, v := range got {
			t.Logf("got %q %s dm=%v latest=%v", v.Key, v.VersionID, v.DeleteMarker, v.IsLatest)
		}
		t.Fatalf("listed %d entries, want %d", len(got), len(expect))
	}
	for i, w := range expect {
		v := got[i]
		if v.Key != w.key || v.VersionID != w.vid || v.DeleteMarker != w.dm || v.IsLatest != w.latest {
			t.Errorf("entry %d: got %q %s dm=%v latest=%v, want %q %s dm=%v latest=%v",
				i, v.Key, v.VersionID, v.DeleteMarker, v.IsLatest, w.key, w.vid, w.dm, w.latest)
			continue
		}
		if v.VersionID == "" || v.LastModified.IsZero() {
			t.Errorf("entry %d (%q): empty version id or time: %+v", i, v.Key, v)
		}
		// Whole seconds: versitygw lists version times so. Its delete
		// marker times are when they were archived, so they are left out.
		if i > 0 {
			p := got[i-1]
			if p.Key == v.Key && !p.DeleteMarker && !v.DeleteMarker && p.LastModified.Unix() < v.LastModified.Unix() {
				t.Errorf("entry %d (%q): older version listed first: %v before %v", i, v.Key, p.LastModified, v.LastModified)
			}
		}
		if w.dm {
			if v.Size != 0 || v.ETag != "" {
				t.Errorf("delete marker %q has size %d etag %q", v.Key, v.Size, v.ETag)
			}
			continue
		}
		if v.Size != int64(len(w.data)) || v.ETag != md5hex(w.data) {
			t.Errorf("entry %d (%q): size %d etag %q, want %d %q", i, v.Key, v.Size, v.ETag, len(w.data), md5hex(w.data))
		}
	}
}

// TestListVersionsUnversioned lists a bucket whose versioning was never
// enabled: current objects, version id "null".
func TestListVersionsUnversioned(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *testserver.Server, c *Client) {
		mc := srv.Client(t)
		bucket := srv.NewBucket(t, false)
		keys := []string{"x", "y/z", "y0"}
		for _, k := range keys {
			putObj(t, mc, bucket, k, []byte("one "+k), minio.PutObjectOptions{})
			putObj(t, mc, bucket, k, []byte("two "+k), minio.PutObjectOptions{}) // overwrite
		}
		info, err := c.Bucket(testCtx(t), bucket)
		if err != nil || info.Versioning != "" || info.ObjectLock {
			t.Fatalf("Bucket: %+v, %v", info, err)
		}
		var expect []want
		for _, k := range keys {
			expect = append(expect, want{key: k, vid: "null", latest: true, data: []byte("two " + k)})
		}
		checkListing(t, listAll(t, c, bucket), expect)

		// The fallback for endpoints without ListObjectVersions.
		var got []Version
		if err := c.listCurrent(testCtx(t), bucket, "", func(v Version) error { got = append(got, v); return nil }); err != nil {
			t.Fatal(err)
		}
		checkListing(t, got, expect)
		for _, k := range keys {
			data, _ := readAll(t, c, bucket, k, "null")
			if string(data) != "two "+k {
				t.Errorf("GetObject(%q, null) = %q", k, data)
			}
		}
	})
}

// TestNullVersionAfterVersioning: an object written before versioning was
// enabled keeps version id "null" and must be read as that version, not
// as the current one.
func TestNullVersionAfterVersioning(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *testserver.Server, c *Client) {
		mc := srv.Client(t)
		ctx := testCtx(t)
		bucket := srv.NewBucket(t, false)
		putObj(t, mc, bucket, "k", []byte("before versioning"), minio.PutObjectOptions{})
		if err := mc.EnableVersioning(ctx, bucket); err != nil {
			t.Fatal(err)
		}
		vid := putObj(t, mc, bucket, "k", []byte("after"), minio.PutObjectOptions{})
		checkListing(t, listAll(t, c, bucket), []want{
			{key: "k", vid: vid, latest: true, data: []byte("after")},
			{key: "k", vid: "null", data: []byte("before versioning")},
		})
		if data, _ := readAll(t, c, bucket, "k", "null"); string(data) != "before versioning" {
			t.Errorf("null version reads %q", data)
		}
		if data, _ := readAll(t, c, bucket, "k", ""); string(data) != "after" {
			t.Errorf("current version reads %q", data)
		}
		info, err := c.Bucket(ctx, bucket)
		if err != nil || info.Versioning != "Enabled" {
			t.Fatalf("Bucket: %+v, %v", info, err)
		}
	})
}

func TestListVersionsErrors(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *testserver.Server, c *Client) {
		ctx := testCtx(t)
		err := c.ListVersions(ctx, "no-such-bucket-"+srv.Kind, func(Version) error { return nil })
		if !errors.Is(err, ErrNoSuchBucket) {
			t.Errorf("missing bucket: %v, want ErrNoSuchBucket", err)
		}
		if _, err := c.Bucket(ctx, "no-such-bucket-"+srv.Kind); !errors.Is(err, ErrNoSuchBucket) {
			t.Errorf("Bucket of missing bucket: %v", err)
		}
		bucket := srv.NewBucket(t, true)
		mc := srv.Client(t)
		for i := 0; i < 5; i++ {
			putObj(t, mc, bucket, fmt.Sprintf("k%d", i), []byte("x"), minio.PutObjectOptions{})
		}
		stop := errors.New("stop here")
		n := 0
		err = c.ListVersions(ctx, bucket, func(Version) error { n++; return stop })
		if err != stop || n != 1 {
			t.Errorf("callback error: got %v after %d calls", err, n)
		}
		cctx, cancel := context.WithCancel(ctx)
		c.pageSize = 2
		n = 0
		err = c.ListVersions(cctx, bucket, func(Version) error {
			n++
			if n == 2 {
				cancel()
			}
			return nil
		})
		if err == nil {
			t.Errorf("listing cut short by cancel returned no error after %d entries", n)
		}
	})
}
