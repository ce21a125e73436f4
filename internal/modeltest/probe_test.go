package modeltest

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/tags"

	"github.com/cofferbackup/coffer/internal/testserver"
)

// hardKeys are the key names the brief asks for; each is probed on the
// server and left out where it is refused or listed under another name.
var hardKeys = func() []string {
	var long strings.Builder
	for long.Len() < 1024-100 {
		long.WriteString(strings.Repeat("L", 99) + "/")
	}
	long.WriteString(strings.Repeat("x", 1024-long.Len()))
	return []string{
		"with space/file name.txt", "unicode/ñandú/日本語.txt", "emoji/😀 🐘.bin",
		"a/../b", "../up", "dots..name", "dir//double", "/leading-slash", "//two-leading",
		"percent%20%zz", "plus+sign+", "a+b c%2F", long.String(),
	}
}()

// caps are what the server was found to support. Operations it lacks are
// not drawn; the test logs each one left out.
type caps struct {
	keys          []string // hard keys that round-trip
	unversioned   bool     // buckets without versioning
	tags          bool     // object tagging, per version
	versionDelete bool     // DeleteObject with a version id, of versions and delete markers
	headers       map[string]bool
}

// probe finds out what the server supports, in a bucket of its own.
func probe(t *testing.T, srv *testserver.Server) caps {
	t.Helper()
	mc := srv.Client(t)
	bucket := srv.NewBucket(t, true)
	c := caps{headers: map[string]bool{}}
	for _, k := range hardKeys {
		if err := probeKey(mc, bucket, k); err != nil {
			t.Logf("%s: key %.60q left out: %v", srv.Kind, k, err)
			continue
		}
		c.keys = append(c.keys, k)
	}
	note := func(what string, err error) bool {
		if err != nil {
			t.Logf("%s: %s not supported, its operations are left out: %v", srv.Kind, what, err)
		}
		return err == nil
	}
	c.tags = note("object tagging", probeTags(mc, bucket))
	c.versionDelete = note("deleting versions and delete markers by id", probeVersionDelete(mc, bucket))
	c.unversioned = note("unversioned buckets", probeUnversioned(t, srv))
	for name, err := range probeHeaders(mc, bucket) {
		c.headers[name] = note("header "+name, err)
	}
	t.Logf("%s: %d of %d hard keys, tags %v, version deletes %v, unversioned buckets %v",
		srv.Kind, len(c.keys), len(hardKeys), c.tags, c.versionDelete, c.unversioned)
	return c
}

// probeKey puts, lists, reads and deletes key.
func probeKey(mc *minio.Client, bucket, key string) error {
	data := []byte("probe " + key)
	info, err := mc.PutObject(ctx, bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{})
	if err != nil {
		return fmt.Errorf("put: %w", err)
	}
	found := false
	for o := range mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{WithVersions: true, Recursive: true}) {
		if o.Err != nil {
			return fmt.Errorf("list: %w", o.Err)
		}
		if o.Key == key {
			found = true
		}
	}
	if !found {
		return fmt.Errorf("not listed under its name")
	}
	obj, err := mc.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return fmt.Errorf("get: %w", err)
	}
	got, err := io.ReadAll(obj)
	obj.Close()
	if err != nil || !bytes.Equal(got, data) {
		return fmt.Errorf("read back %q (%v)", got, err)
	}
	if err := mc.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{VersionID: info.VersionID}); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	return nil
}

func probeTags(mc *minio.Client, bucket string) error {
	const key = "probe-tags"
	info, err := mc.PutObject(ctx, bucket, key, bytes.NewReader([]byte("x")), 1, minio.PutObjectOptions{UserTags: map[string]string{"a": "1"}})
	if err != nil {
		return err
	}
	if _, err := mc.PutObject(ctx, bucket, key, bytes.NewReader([]byte("y")), 1, minio.PutObjectOptions{}); err != nil {
		return err
	}
	want := map[string]string{"k 1": "v w", "a+b": "c"}
	tg, _ := tags.NewTags(want, true)
	if err := mc.PutObjectTagging(ctx, bucket, key, tg, minio.PutObjectTaggingOptions{VersionID: info.VersionID}); err != nil {
		return fmt.Errorf("tag a noncurrent version: %w", err)
	}
	got, err := mc.GetObjectTagging(ctx, bucket, key, minio.GetObjectTaggingOptions{VersionID: info.VersionID})
	if err != nil {
		return err
	}
	if !maps.Equal(got.ToMap(), want) {
		return fmt.Errorf("tags read back %v, want %v", got.ToMap(), want)
	}
	return nil
}

// probeVersionDelete makes a delete marker, finds it listed as current,
// deletes it by id and finds the version current again.
func probeVersionDelete(mc *minio.Client, bucket string) error {
	const key = "probe-versions"
	info, err := mc.PutObject(ctx, bucket, key, bytes.NewReader([]byte("x")), 1, minio.PutObjectOptions{})
	if err != nil {
		return err
	}
	if err := mc.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return err
	}
	var marker string
	for o := range mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: key, WithVersions: true}) {
		if o.Err != nil {
			return o.Err
		}
		if o.IsLatest && o.IsDeleteMarker {
			marker = o.VersionID
		}
	}
	if marker == "" {
		return fmt.Errorf("no current delete marker listed")
	}
	if err := mc.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{VersionID: marker}); err != nil {
		return fmt.Errorf("delete the marker by id: %w", err)
	}
	st, err := mc.StatObject(ctx, bucket, key, minio.StatObjectOptions{})
	if err != nil || st.VersionID != info.VersionID {
		return fmt.Errorf("after deleting the marker the current version is %q (%v), want %q", st.VersionID, err, info.VersionID)
	}
	return mc.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{VersionID: info.VersionID})
}

// probeUnversioned checks that an overwrite in a bucket without versioning
// leaves one entry.
func probeUnversioned(t *testing.T, srv *testserver.Server) error {
	mc := srv.Client(t)
	bucket := srv.NewBucket(t, false)
	for _, s := range []string{"x", "yy"} {
		if _, err := mc.PutObject(ctx, bucket, "k", strings.NewReader(s), int64(len(s)), minio.PutObjectOptions{}); err != nil {
			return err
		}
	}
	n := 0
	for o := range mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{WithVersions: true}) {
		if o.Err != nil {
			return o.Err
		}
		n++
	}
	if n != 1 {
		return fmt.Errorf("%d entries listed after an overwrite", n)
	}
	return mc.RemoveObject(ctx, bucket, "k", minio.RemoveObjectOptions{})
}

// probeHeaders puts an object with every system header and reports, per
// header, whether it is answered back as sent.
func probeHeaders(mc *minio.Client, bucket string) map[string]error {
	const key = "probe-headers"
	exp := time.Date(2031, 5, 17, 10, 0, 0, 0, time.UTC)
	sent := map[string]string{"Content-Encoding": "gzip", "Content-Disposition": `attachment; filename="f 1.bin"`,
		"Content-Language": "de-CH", "Cache-Control": "max-age=60, private", "Expires": exp.Format(http.TimeFormat)}
	out := map[string]error{}
	_, err := mc.PutObject(ctx, bucket, key, strings.NewReader("x"), 1, minio.PutObjectOptions{
		ContentEncoding: sent["Content-Encoding"], ContentDisposition: sent["Content-Disposition"],
		ContentLanguage: sent["Content-Language"], CacheControl: sent["Cache-Control"], Expires: exp})
	var st minio.ObjectInfo
	if err == nil {
		st, err = mc.StatObject(ctx, bucket, key, minio.StatObjectOptions{})
	}
	for name, want := range sent {
		switch got := st.Metadata.Get(name); {
		case err != nil:
			out[name] = err
		case name == "Expires" && !st.Expires.Equal(exp):
			out[name] = fmt.Errorf("answered %v", st.Expires)
		case name != "Expires" && got != want:
			out[name] = fmt.Errorf("answered %q", got)
		default:
			out[name] = nil
		}
	}
	return out
}
