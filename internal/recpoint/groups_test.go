package recpoint

import (
	"bytes"
	"strings"
	"testing"
)

// TestGroups: Of returns exactly the records of each key asked for, in
// stream order, skipping keys not asked for; a key asked twice gives the
// same group; a key before the last one finds nothing; a damaged stream
// ends with one onErr call.
func TestGroups(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []Record{{Key: "a", VersionID: "1"}, {Key: "a", VersionID: "2"}, {Key: "b", VersionID: "1"},
		{Key: "c", VersionID: "1"}, {Key: "e", VersionID: "1"}, {Key: "e", VersionID: "2"}} {
		if err := w.Write(&r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	buf.WriteString("{damaged\n")
	rd, err := NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var errs int
	g := NewGroups(rd, func(error) { errs++ })
	for _, tt := range []struct{ key, want string }{
		{"a", "a1 a2"}, {"a", "a1 a2"}, {"c", "c1"}, {"b", ""}, {"d", ""}, {"e", "e1 e2"}, {"f", ""}, {"g", ""},
	} {
		var got []string
		for _, r := range g.Of(tt.key) {
			got = append(got, r.Key+r.VersionID)
		}
		if s := strings.Join(got, " "); s != tt.want {
			t.Errorf("Of(%q) = %q, want %q", tt.key, s, tt.want)
		}
	}
	if errs != 1 {
		t.Errorf("onErr called %d times for one damaged line, want 1", errs)
	}
	if got := NewGroups(nil, nil).Of("a"); len(got) != 0 {
		t.Errorf("empty stream gave %v", got)
	}
}
