package restore_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	bt "github.com/cofferbackup/coffer/internal/backup/backuptest"
	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/restore"
	"github.com/cofferbackup/coffer/internal/testserver"
)

func TestMain(m *testing.M) { testserver.Main(m) }

// longKey is a 1,024-byte key (S3's maximum) in path segments short
// enough for file-system backed servers.
var longKey = func() string {
	var b strings.Builder
	for b.Len() < 1024-100 {
		b.WriteString(strings.Repeat("L", 99) + "/")
	}
	b.WriteString(strings.Repeat("x", 1024-b.Len()))
	return b.String()
}()

// weirdKeys are tried on every server; a server that refuses one is
// logged and the key left out there.
var weirdKeys = []string{
	"with space.txt", "plus+sign+", "percent%20%zz", "question?mark=1&x=y", "hash#frag",
	"unicode/ñandú/日本語.txt", "emoji/😀 🐘.bin", "dir//double", "./dot-start", "a/./b",
	"a/../b", "../up", "trailing/", longKey, "a", "a/b", "ampersand&lt;<>\"'",
}

// fixture writes the nasty bucket through mc and returns the keys the
// server refused.
type fixture struct {
	t      *testing.T
	mc     *minio.Client
	bucket string
	n      int
}

func (f *fixture) put(key string, size int, opts minio.PutObjectOptions) error {
	f.n++
	data := bt.Bytes(uint64(f.n), size)
	_, err := f.mc.PutObject(context.Background(), f.bucket, key, bytes.NewReader(data), int64(size), opts)
	return err
}

// again retries a fixture call: versitygw now and then answers a request
// on a reused connection with "BadRequest: An error occurred when parsing
// the HTTP request" (observed after zero-byte PUTs).
func again(fn func() error) error {
	var err error
	for range 3 {
		if err = fn(); err == nil || !strings.Contains(err.Error(), "parsing the HTTP request") {
			return err
		}
	}
	return err
}

func (f *fixture) mustPut(key string, size int, opts minio.PutObjectOptions) {
	f.t.Helper()
	if err := again(func() error { return f.put(key, size, opts) }); err != nil {
		f.t.Fatalf("put %q: %v", key, err)
	}
}

func (f *fixture) mustDelete(key string) {
	f.t.Helper()
	err := again(func() error {
		return f.mc.RemoveObject(context.Background(), f.bucket, key, minio.RemoveObjectOptions{})
	})
	if err != nil {
		f.t.Fatalf("delete %q: %v", key, err)
	}
}

// buildNastyBucket fills a new versioned bucket, delete markers included
// (versitygw lists them out of order; s3source and backuptest.Snapshot
// both put them back in history order).
func buildNastyBucket(t *testing.T, srv *testserver.Server) (bucket string, refused []string) {
	bucket, refused = fillNastyBucket(t, srv, true)
	keys := listedKeys(t, srv, bucket)
	for _, k := range weirdKeys {
		if !slices.Contains(refused, k) && !slices.Contains(keys, k) {
			t.Logf("%s accepted key %q but does not list it under that name (normalized or shadowed)", srv.Kind, k)
		}
	}
	return bucket, refused
}

func listedKeys(t *testing.T, srv *testserver.Server, bucket string) []string {
	var keys []string
	for o := range srv.Client(t).ListObjects(context.Background(), bucket, minio.ListObjectsOptions{WithVersions: true, Recursive: true}) {
		if o.Err != nil {
			t.Fatalf("list %s: %v", bucket, o.Err)
		}
		keys = append(keys, o.Key)
	}
	return keys
}

func fillNastyBucket(t *testing.T, srv *testserver.Server, markers bool) (bucket string, refused []string) {
	bucket = srv.NewBucket(t, true)
	f := &fixture{t: t, mc: srv.Client(t), bucket: bucket}
	del := func(key string) {
		if markers {
			f.mustDelete(key)
		}
	}
	none := minio.PutObjectOptions{}
	// Several versions with a delete marker in the middle and zero bytes.
	f.mustPut("plain.txt", 100, none)
	f.mustPut("plain.txt", 2048, minio.PutObjectOptions{ContentType: "text/plain"})
	f.mustPut("plain.txt", 0, none)
	del("plain.txt")
	f.mustPut("plain.txt", 5000, none)
	// Latest is a delete marker; two markers in a row.
	f.mustPut("gone.txt", 10, none)
	f.mustPut("gone.txt", 20, none)
	del("gone.txt")
	f.mustPut("double-dm", 7, none)
	del("double-dm")
	del("double-dm")
	// History starting with a delete marker.
	del("dm-first")
	f.mustPut("dm-first", 33, none)
	f.mustPut("empty", 0, none)
	// Every metadata field, user metadata and tags, in two versions.
	f.mustPut("meta.bin", 4096, bt.PutOptions(1))
	f.mustPut("meta.bin", 1234, bt.PutOptions(2))
	f.mustPut("tags-only", 10, minio.PutObjectOptions{UserTags: map[string]string{"k": "v", "space key": "v a l"}})
	for i, k := range weirdKeys {
		size := 10 + i
		if strings.HasSuffix(k, "/") {
			size = 0 // directory-style keys hold no data on some servers
		}
		if err := f.put(k, size, minio.PutObjectOptions{UserMetadata: map[string]string{"idx": strings.Repeat("i", i+1)}}); err != nil {
			t.Logf("%s refused key %q: %v", srv.Kind, k, err)
			refused = append(refused, k)
			continue
		}
		if i%3 == 0 { // some weird keys get a second version
			if err := f.put(k, size, none); err != nil {
				t.Errorf("%s: second version of %q: %v", srv.Kind, k, err)
			}
		}
	}
	return bucket, refused
}

// checkSource guards against a vacuous comparison: the snapshot must hold
// what the fixture wrote.
func checkSource(t *testing.T, h bt.History) {
	t.Helper()
	if got := len(h["plain.txt"]); got != 5 && got != 4 {
		t.Fatalf("source plain.txt has %d entries, want 5 (4 without delete markers)", got)
	}
	m := h["meta.bin"]
	if len(m) != 2 || m[1].Header["Content-Type"] != "application/x-coffer-test" ||
		m[1].UserMetadata["owner"] != "alice" || m[1].Tags["team"] != "blue" {
		t.Fatalf("source meta.bin lacks its metadata: %+v", m)
	}
	for _, name := range []string{"Content-Encoding", "Content-Disposition", "Content-Language", "Cache-Control", "Expires"} {
		if m[1].Header[name] == "" {
			t.Logf("source meta.bin has no %s (server does not keep it)", name)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, kind := range testserver.Kinds() {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			srv := testserver.Shared(t, kind)
			bucket, refused := buildNastyBucket(t, srv)
			t.Logf("%s refused %d of %d weird keys", kind, len(refused), len(weirdKeys))
			mc := srv.Client(t)
			src := bt.Source(t, srv, "")
			v := bt.Vault(t)
			want := bt.Histories(bt.Snapshot(t, mc, bucket))
			checkSource(t, want)

			res := bt.Backup(t, src, v, bucket, nil, nil)
			if res.Manifest.Status != recpoint.StatusCompleted || len(res.Failures) != 0 {
				t.Fatalf("backup status %s, failures %v", res.Manifest.Status, res.Failures)
			}

			t.Run("all versions", func(t *testing.T) {
				dest := testserver.UniqueBucketName("rt-all")
				r := bt.Restore(t, src, v, res.Manifest, restore.Options{DestBucket: dest, NewBucket: true, RestoreACLs: true})
				exp := want.Select(0, nil)
				bt.Compare(t, exp, bt.Histories(bt.Snapshot(t, mc, dest)))
				checkStats(t, r, exp)
			})
			t.Run("latest only", func(t *testing.T) {
				dest := testserver.UniqueBucketName("rt-latest")
				r := bt.Restore(t, src, v, res.Manifest, restore.Options{DestBucket: dest, NewBucket: true, VersionsUpTo: 1})
				exp := want.Select(1, nil)
				if _, ok := exp["gone.txt"]; ok && len(want["gone.txt"]) == 3 {
					t.Fatal("expectation keeps a key whose latest entry is a delete marker")
				}
				bt.Compare(t, exp, bt.Histories(bt.Snapshot(t, mc, dest)))
				checkStats(t, r, exp)
			})
			t.Run("items", func(t *testing.T) {
				dest := testserver.UniqueBucketName("rt-items")
				items := []string{"s3://" + bucket + "/unicode/", "s3://" + bucket + "/plain.txt", "s3://" + bucket + "/a"}
				r := bt.Restore(t, src, v, res.Manifest, restore.Options{DestBucket: dest, NewBucket: true, Items: items, VersionsUpTo: 2})
				exp := want.Select(2, func(k string) bool {
					return strings.HasPrefix(k, "unicode/") || strings.HasPrefix(k, "plain.txt") || strings.HasPrefix(k, "a")
				})
				if len(exp) < 3 {
					t.Fatalf("items select only %v", exp.Keys())
				}
				bt.Compare(t, exp, bt.Histories(bt.Snapshot(t, mc, dest)))
				checkStats(t, r, exp)
			})
		})
	}
}

// checkStats compares a restore's counters with the expected histories.
func checkStats(t *testing.T, r restore.Result, exp bt.History) {
	t.Helper()
	var versions, markers, bytes int64
	for _, vs := range exp {
		for _, v := range vs {
			if v.DeleteMarker {
				markers++
			} else {
				versions++
				bytes += v.Size
			}
		}
	}
	s := r.Stats
	if s.ObjectsRestored != int64(len(exp)) || s.VersionsRestored != versions || s.DeleteMarkersRestored != markers ||
		s.BytesRestored != bytes || s.TotalBytes != bytes || s.ObjectsFailed != 0 || s.ObjectsSkipped != 0 {
		t.Errorf("stats %+v, want %d objects, %d versions, %d markers, %d bytes", s, len(exp), versions, markers, bytes)
	}
	if len(r.Failures) != 0 || len(r.Skipped) != 0 {
		t.Errorf("failures %v, skipped %v", r.Failures, r.Skipped)
	}
}

// TestLargeObject round-trips a multipart object above 100 MiB, streamed
// on both sides, next to a small one.
func TestLargeObject(t *testing.T) {
	t.Parallel()
	srv := testserver.Shared(t, testserver.MinIO)
	mc := srv.Client(t)
	bucket := srv.NewBucket(t, true)
	const size = 100<<20 + 12345
	ctx := context.Background()
	if _, err := mc.PutObject(ctx, bucket, "big/object.bin", bt.Data(42, size), size,
		minio.PutObjectOptions{ContentType: "application/octet-stream", UserMetadata: map[string]string{"kind": "big"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := mc.PutObject(ctx, bucket, "small", bytes.NewReader([]byte("hello")), 5, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	src := bt.Source(t, srv, "")
	v := bt.Vault(t)
	res := bt.Backup(t, src, v, bucket, nil, nil)
	if res.Manifest.TotalBytes != size+5 || res.Stats.BytesTransferred != size+5 || res.Manifest.ObjectCount != 2 {
		t.Fatalf("manifest %+v stats %+v", res.Manifest, res.Stats)
	}
	dest := testserver.UniqueBucketName("large")
	r := bt.Restore(t, src, v, res.Manifest, restore.Options{DestBucket: dest, NewBucket: true})
	if r.Stats.BytesRestored != size+5 {
		t.Fatalf("restored %d bytes", r.Stats.BytesRestored)
	}
	want := bt.Histories(bt.Snapshot(t, mc, bucket))
	if big := want["big/object.bin"]; len(big) != 1 || big[0].Size != size {
		t.Fatalf("source snapshot %+v", big)
	}
	bt.Compare(t, want, bt.Histories(bt.Snapshot(t, mc, dest)))
}
