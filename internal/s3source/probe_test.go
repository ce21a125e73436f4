package s3source

import (
	"maps"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/tags"

	"github.com/cofferbackup/coffer/internal/testserver"
)

// TestProbeAndMetadataListing checks what Probe says of each server and
// that ListVersionsWithMetadata gives MinIO's versions their current tags
// (a tag set on a noncurrent version included, with characters that need
// escaping), and versitygw's none: they come without Listed, as from
// ListVersions.
func TestProbeAndMetadataListing(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *testserver.Server, c *Client) {
		isMinIO := srv.Kind == testserver.MinIO
		ctx := testCtx(t)
		caps, err := c.Probe(ctx, "")
		if err == nil {
			t.Fatalf("Probe of no bucket: %+v, want an error", caps)
		}
		mc := srv.Client(t)
		bucket := srv.NewBucket(t, true)
		caps, err = c.Probe(ctx, bucket)
		if err != nil {
			t.Fatalf("Probe: %v", err)
		}
		if caps.ACLsFixed != isMinIO || caps.MetadataListing != isMinIO || caps.Server == "" {
			t.Errorf("Probe %+v", caps)
		}

		v1 := putObj(t, mc, bucket, "k", []byte("one"), minio.PutObjectOptions{UserTags: map[string]string{"a": "1"}})
		putObj(t, mc, bucket, "k", []byte("two"), minio.PutObjectOptions{})
		putObj(t, mc, bucket, "t", []byte("t"), minio.PutObjectOptions{UserTags: map[string]string{"x y": "1+2=3/@ :._-"}})
		retag, _ := tags.NewTags(map[string]string{"b": "2 3+4", "c": ""}, true)
		if err := mc.PutObjectTagging(ctx, bucket, "k", retag, minio.PutObjectTaggingOptions{VersionID: v1}); err != nil {
			t.Fatal(err)
		}
		wantTags := map[string]map[string]string{
			"k/" + v1: {"b": "2 3+4", "c": ""}, "k/": nil, "t/": {"x y": "1+2=3/@ :._-"},
		}
		var got []Version
		if err := c.ListVersionsWithMetadata(ctx, bucket, func(v Version) error {
			got = append(got, v)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		plain := listAll(t, c, bucket)
		if len(got) != 3 || len(plain) != 3 {
			t.Fatalf("listed %d versions with metadata, %d without, want 3", len(got), len(plain))
		}
		for i, v := range got {
			if v.Listed != isMinIO {
				t.Errorf("%s %s: Listed %v", v.Key, v.VersionID, v.Listed)
			}
			if p := plain[i]; p.Listed || p.Key != v.Key || p.VersionID != v.VersionID || p.ETag != v.ETag {
				t.Errorf("plain listing %+v, metadata listing %+v", p, v)
			}
			if !isMinIO {
				continue
			}
			id := v.Key + "/"
			if !v.IsLatest {
				id += v.VersionID
			}
			if want := wantTags[id]; !maps.Equal(v.ListedTags, want) {
				t.Errorf("%s %s: listed tags %v, want %v", v.Key, v.VersionID, v.ListedTags, want)
			}
		}
	})
}

// TestParseListedTags covers MinIO's UserTags encoding.
func TestParseListedTags(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    map[string]string
		wantErr bool
	}{
		{"", nil, false},
		{"a=1", map[string]string{"a": "1"}, false},
		{"b=2+3%2B4&c=", map[string]string{"b": "2 3+4", "c": ""}, false},
		{"x%20y=%2F", map[string]string{"x y": "/"}, false},
		{"a=%zz", nil, true},
	} {
		got, err := parseListedTags(tc.in)
		if (err != nil) != tc.wantErr || !maps.Equal(got, tc.want) {
			t.Errorf("parseListedTags(%q) = %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}
