package backuptest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
)

// Version is one object version or delete marker as the server returns it,
// without what a restore cannot keep (version id, time).
type Version struct {
	Key          string
	VersionID    string // informational, not compared
	DeleteMarker bool
	Size         int64
	ETag         string
	SHA256       string
	Header       map[string]string // system metadata headers that are set
	UserMetadata map[string]string
	Tags         map[string]string
}

// systemHeaders are the metadata headers a restore must reproduce.
var systemHeaders = []string{"Content-Type", "Content-Encoding", "Content-Disposition",
	"Content-Language", "Cache-Control", "Expires"}

// Snapshot reads every version of bucket in listing order (keys ascending,
// newest first), including data hashes, metadata and tags.
func Snapshot(t testing.TB, c *minio.Client, bucket string) []Version {
	t.Helper()
	ctx := context.Background()
	var out []Version
	for _, o := range listVersions(t, c, bucket) {
		v := Version{Key: o.Key, VersionID: o.VersionID, DeleteMarker: o.IsDeleteMarker}
		if !o.IsDeleteMarker {
			if err := readVersion(ctx, c, bucket, &v); err != nil {
				t.Fatalf("snapshot: %s %q version %s: %v", bucket, o.Key, o.VersionID, err)
			}
		}
		out = append(out, v)
	}
	return out
}

// ListVersions lists every version of bucket (no data) in true history
// order: keys ascending, each key's entries newest first (see listVersions).
func ListVersions(t testing.TB, c *minio.Client, bucket string) []minio.ObjectInfo {
	t.Helper()
	return listVersions(t, c, bucket)
}

// listVersions lists every version in true history order. versitygw v1.8.0
// lists a key's delete markers before its versions whatever their age; its
// version ids are ULIDs, which order by creation time, so each key's
// entries are re-sorted by them (current version first).
func listVersions(t testing.TB, c *minio.Client, bucket string) []minio.ObjectInfo {
	t.Helper()
	var all []minio.ObjectInfo
	for o := range c.ListObjects(context.Background(), bucket, minio.ListObjectsOptions{WithVersions: true, Recursive: true}) {
		if o.Err != nil {
			t.Fatalf("snapshot: list %s: %v", bucket, o.Err)
		}
		all = append(all, o)
	}
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.Key != b.Key {
			return a.Key < b.Key
		}
		if a.IsLatest != b.IsLatest {
			return a.IsLatest
		}
		if len(a.VersionID) == 26 && len(b.VersionID) == 26 {
			return a.VersionID > b.VersionID
		}
		return false
	})
	return all
}

func readVersion(ctx context.Context, c *minio.Client, bucket string, v *Version) error {
	vid := v.VersionID
	obj, info, err := getVersion(ctx, c, bucket, v.Key, vid)
	if err != nil && vid == "null" {
		// versitygw lists directory objects as version "null" but cannot
		// read them by that id.
		vid = ""
		obj, info, err = getVersion(ctx, c, bucket, v.Key, vid)
	}
	if err != nil {
		return err
	}
	defer obj.Close()
	h := sha256.New()
	n, err := io.Copy(h, obj)
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	v.Size, v.SHA256, v.ETag = n, hex.EncodeToString(h.Sum(nil)), strings.Trim(info.ETag, `"`)
	v.Header = map[string]string{}
	for _, name := range systemHeaders {
		if val := info.Metadata.Get(name); val != "" {
			v.Header[name] = val
		}
	}
	if !info.Expires.IsZero() {
		v.Header["Expires"] = info.Expires.UTC().Format(http.TimeFormat)
	}
	v.UserMetadata = map[string]string{}
	for name, vals := range info.Metadata {
		if lower := strings.ToLower(name); strings.HasPrefix(lower, "x-amz-meta-") {
			v.UserMetadata[strings.TrimPrefix(lower, "x-amz-meta-")] = strings.Join(vals, ",")
		}
	}
	tg, err := c.GetObjectTagging(ctx, bucket, v.Key, minio.GetObjectTaggingOptions{VersionID: vid})
	if err != nil && vid == "null" {
		// versitygw lists the objects of a never-versioned bucket as
		// version "null" and refuses ?tagging&versionId=null.
		tg, err = c.GetObjectTagging(ctx, bucket, v.Key, minio.GetObjectTaggingOptions{})
	}
	if err != nil {
		return fmt.Errorf("tagging: %w", err)
	}
	v.Tags = tg.ToMap()
	return nil
}

func getVersion(ctx context.Context, c *minio.Client, bucket, key, vid string) (*minio.Object, minio.ObjectInfo, error) {
	obj, err := c.GetObject(ctx, bucket, key, minio.GetObjectOptions{VersionID: vid})
	if err != nil {
		return nil, minio.ObjectInfo{}, fmt.Errorf("get: %w", err)
	}
	info, err := obj.Stat()
	if err != nil {
		obj.Close()
		return nil, minio.ObjectInfo{}, fmt.Errorf("stat: %w", err)
	}
	return obj, info, nil
}

// History is the versions of one key, oldest first.
type History map[string][]Version

// Histories groups a snapshot by key, oldest first.
func Histories(s []Version) History {
	h := History{}
	for i := len(s) - 1; i >= 0; i-- {
		h[s[i].Key] = append(h[s[i].Key], s[i])
	}
	return h
}

// Select applies a restore's version selection to a source history: the
// newest n entries of each key (0 = all), without leading delete markers;
// keys that keep nothing are dropped. keep filters keys (nil = all).
func (h History) Select(n int, keep func(string) bool) History {
	out := History{}
	for k, vs := range h {
		if keep != nil && !keep(k) {
			continue
		}
		if n > 0 && len(vs) > n {
			vs = vs[len(vs)-n:]
		}
		for len(vs) > 0 && vs[0].DeleteMarker {
			vs = vs[1:]
		}
		if len(vs) > 0 {
			out[k] = vs
		}
	}
	return out
}

// OneOfStackedMarkers is what a restore into MinIO makes of h: MinIO
// writes no delete marker on a delete marker, so of adjacent markers
// (left in a source by deleting the version between two) the restore's
// second DELETE adds none.
func (h History) OneOfStackedMarkers() History {
	out := History{}
	for k, vs := range h {
		var kept []Version
		for i, v := range vs {
			if v.DeleteMarker && i > 0 && vs[i-1].DeleteMarker {
				continue
			}
			kept = append(kept, v)
		}
		out[k] = kept
	}
	return out
}

// Keys returns the sorted keys.
func (h History) Keys() []string {
	ks := make([]string, 0, len(h))
	for k := range h {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Compare reports every difference between want and got (see Diff) as a
// test error.
func Compare(t testing.TB, want, got History) {
	t.Helper()
	for _, d := range Diff(want, got) {
		t.Error(d)
	}
}

// Diff lists every difference between want and got: the keys, and per key
// each version in order with its bytes, ETag (single-part objects), system
// metadata, user metadata, tags and delete-marker positions. Empty means
// equal.
func Diff(want, got History) []string {
	var out []string
	for _, k := range want.Keys() {
		if _, ok := got[k]; !ok {
			out = append(out, fmt.Sprintf("key %q: missing at destination (want %s)", k, shape(want[k])))
		}
	}
	for _, k := range got.Keys() {
		w, ok := want[k]
		if !ok {
			out = append(out, fmt.Sprintf("key %q: at destination but not expected (%s)", k, shape(got[k])))
			continue
		}
		g := got[k]
		if len(w) != len(g) {
			out = append(out, fmt.Sprintf("key %q: %d versions at destination, want %d (%s vs %s)", k, len(g), len(w), shape(g), shape(w)))
			continue
		}
		for i := range w {
			if d := diffVersion(w[i], g[i]); d != "" {
				out = append(out, fmt.Sprintf("key %q version %d (oldest = 0): %s", k, i, d))
			}
		}
	}
	return out
}

func shape(vs []Version) string {
	var b strings.Builder
	for _, v := range vs {
		if v.DeleteMarker {
			b.WriteString("D")
		} else {
			b.WriteString("V")
		}
	}
	return b.String()
}

func diffVersion(w, g Version) string {
	var d []string
	switch {
	case w.DeleteMarker != g.DeleteMarker:
		return fmt.Sprintf("delete marker %v, want %v", g.DeleteMarker, w.DeleteMarker)
	case w.DeleteMarker:
		return ""
	}
	if w.Size != g.Size || w.SHA256 != g.SHA256 {
		d = append(d, fmt.Sprintf("data %d bytes sha256 %.12s, want %d bytes %.12s", g.Size, g.SHA256, w.Size, w.SHA256))
	}
	if !strings.Contains(w.ETag, "-") && w.ETag != g.ETag {
		d = append(d, fmt.Sprintf("ETag %q, want %q", g.ETag, w.ETag))
	}
	if !maps.Equal(w.Header, g.Header) {
		d = append(d, fmt.Sprintf("headers %v, want %v", g.Header, w.Header))
	}
	if !maps.Equal(w.UserMetadata, g.UserMetadata) {
		d = append(d, fmt.Sprintf("user metadata %v, want %v", g.UserMetadata, w.UserMetadata))
	}
	if !maps.Equal(w.Tags, g.Tags) {
		d = append(d, fmt.Sprintf("tags %v, want %v", g.Tags, w.Tags))
	}
	return strings.Join(d, "; ")
}

// PutOptions returns minio put options with every metadata field set.
func PutOptions(i int) minio.PutObjectOptions {
	return minio.PutObjectOptions{
		ContentType:        "application/x-coffer-test",
		ContentEncoding:    "gzip",
		ContentDisposition: fmt.Sprintf(`attachment; filename="f%d.bin"`, i),
		ContentLanguage:    "de-CH",
		CacheControl:       "max-age=3600, private",
		Expires:            time.Date(2031, 5, 17, 10, 20, 30, 0, time.UTC),
		UserMetadata:       map[string]string{"Owner": "alice", "Project": fmt.Sprintf("p-%d", i), "Empty-Ish": "x y z"},
		UserTags:           map[string]string{"team": "blue", "n": fmt.Sprint(i)},
	}
}
