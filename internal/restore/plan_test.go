package restore

import (
	"slices"
	"testing"

	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/s3source"
)

// TestPlanKeepsFirstKeys: a preview lists the first keys in key order,
// whatever order the workers add them in, and counts them all.
func TestPlanKeepsFirstKeys(t *testing.T) {
	for _, tc := range []struct {
		max  int
		add  []string
		want []string
	}{
		{2, []string{"c", "a", "b"}, []string{"a", "b"}},
		{2, []string{"a", "b", "c"}, []string{"a", "b"}},
		{3, []string{"z", "y"}, []string{"y", "z"}},
		{1, []string{"b", "b", "a"}, []string{"a"}},
	} {
		p := &plan{max: tc.max}
		for _, k := range tc.add {
			p.add(classWrite, k, 1, 0, 10)
		}
		c := p.classes[classWrite]
		if !slices.Equal(c.Keys, tc.want) || c.Count != int64(len(tc.add)) || p.nbytes != 10*int64(len(tc.add)) {
			t.Errorf("add %q max %d: %q count %d bytes %d, want %q", tc.add, tc.max, c.Keys, c.Count, p.nbytes, tc.want)
		}
	}
}

func TestSameMetadata(t *testing.T) {
	rec := recpoint.Record{ContentType: "text/plain", CacheControl: "no-cache", Expires: "Sat, 17 May 2031 10:20:30 GMT",
		UserMetadata: map[string]string{"Owner": "alice"}}
	head := s3source.ObjectMeta{ContentType: "text/plain", CacheControl: "no-cache", Expires: "Saturday, 17-May-31 10:20:30 GMT",
		UserMetadata: map[string]string{"owner": "alice"}}
	for _, tc := range []struct {
		name string
		mod  func(r *recpoint.Record, m *s3source.ObjectMeta)
		same bool
	}{
		{"equal", func(*recpoint.Record, *s3source.ObjectMeta) {}, true},
		{"default content type", func(r *recpoint.Record, m *s3source.ObjectMeta) {
			r.ContentType, m.ContentType = "", "application/octet-stream"
		}, true},
		{"content type", func(_ *recpoint.Record, m *s3source.ObjectMeta) { m.ContentType = "text/html" }, false},
		{"user value", func(_ *recpoint.Record, m *s3source.ObjectMeta) { m.UserMetadata["owner"] = "bob" }, false},
		{"user key added", func(_ *recpoint.Record, m *s3source.ObjectMeta) { m.UserMetadata["extra"] = "" }, false},
		{"expires", func(_ *recpoint.Record, m *s3source.ObjectMeta) { m.Expires = "" }, false},
		{"encoding", func(r *recpoint.Record, _ *s3source.ObjectMeta) { r.ContentEncoding = "gzip" }, false},
	} {
		r, m := rec, head
		r.UserMetadata, m.UserMetadata = map[string]string{"Owner": "alice"}, map[string]string{"owner": "alice"}
		tc.mod(&r, &m)
		if got := sameMetadata(&r, &m); got != tc.same {
			t.Errorf("%s: same %v, want %v", tc.name, got, tc.same)
		}
	}
}
