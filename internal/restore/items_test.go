package restore

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cofferbackup/coffer/internal/recpoint"
)

func TestParseItems(t *testing.T) {
	got, err := ParseItems([]string{"s3://b/dir/", "s3://b/exact key", "s3://b", "s3://b/", "s3://b/a//b?c#d%20"}, "b")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"dir/", "exact key", "", "", "a//b?c#d%20"}
	if !slices.Equal(got, want) {
		t.Fatalf("ParseItems = %q, want %q", got, want)
	}
	if got, err := ParseItems(nil, "b"); err != nil || len(got) != 0 {
		t.Fatalf("no items: %q, %v", got, err)
	}
	for _, bad := range []struct{ item, msg string }{
		{"b/key", "must start with s3://"},
		{"S3://b/key", "must start with s3://"},
		{"s3:///key", "no bucket name"},
		{"s3://other/key", `bucket "other" is not the recovery point's bucket "b"`},
		{"s3://bb/key", "not the recovery point's bucket"},
	} {
		_, err := ParseItems([]string{"s3://b/ok", bad.item}, "b")
		if err == nil || !strings.Contains(err.Error(), bad.msg) || !strings.Contains(err.Error(), "item 2") {
			t.Errorf("ParseItems(%q) error %v, want one containing %q and the item number", bad.item, err, bad.msg)
		}
	}
}

func TestMatcher(t *testing.T) {
	m := newMatcher([]string{"photos/2024/", "docs/a.txt", "photos/", "zz", "docs/a.txt", "x/y"})
	if !slices.Equal(m.prefixes, []string{"docs/a.txt", "photos/", "x/y", "zz"}) {
		t.Fatalf("prefixes %q", m.prefixes)
	}
	for key, want := range map[string]bool{
		"photos/2024/x.jpg": true, "photos/": true, "photos": false, "photosx": false,
		"docs/a.txt": true, "docs/a.txt.bak": true, "docs/a.tx": false, "docs/b": false,
		"zz": true, "zzz": true, "z": false, "x/y": true, "x/yz/1": true, "x/": false,
		"": false, "a": false, "~": false,
	} {
		if got := m.match(key); got != want {
			t.Errorf("match(%q) = %v, want %v", key, got, want)
		}
	}
	for _, all := range [][]string{nil, {}, {""}, {"a", "", "b"}} {
		if m := newMatcher(all); !m.match("anything") || !m.match("") {
			t.Errorf("newMatcher(%q) does not match everything", all)
		}
	}
	// Many prefixes: the binary search must agree with a linear scan.
	var many []string
	for i := 0; i < 500; i++ {
		many = append(many, strings.Repeat("k", i%7)+string(rune('a'+i%26))+"/")
	}
	mm := newMatcher(many)
	for _, key := range []string{"a/1", "kkb/x", "kkkkkkz/q", "kq/", "k", "kkkkkkkkkkk"} {
		linear := slices.ContainsFunc(many, func(p string) bool { return strings.HasPrefix(key, p) })
		if mm.match(key) != linear {
			t.Errorf("match(%q) = %v, linear scan says %v", key, mm.match(key), linear)
		}
	}
}

func TestSelectVersions(t *testing.T) {
	// Histories are given newest first, as in a record stream; V = version,
	// D = delete marker. The result is oldest first.
	for _, c := range []struct {
		hist string
		n    int
		want string
	}{
		{"VVV", 0, "VVV"},
		{"VVV", 1, "V"},
		{"VVV", 2, "VV"},
		{"DVV", 0, "VVD"},
		{"DVV", 1, ""},   // latest is a delete marker with nothing before it
		{"DVV", 2, "VD"}, // the marker hides the one version before it
		{"VDV", 2, "V"},  // marker with nothing older selected is dropped
		{"VDV", 3, "VDV"},
		{"DDV", 0, "VDD"},
		{"VD", 0, "V"}, // history began with a delete marker
		{"D", 0, ""},
		{"VVDV", 10, "VDVV"},
	} {
		var recs []recpoint.Record
		for i, ch := range c.hist {
			recs = append(recs, recpoint.Record{Key: "k", VersionID: string(rune('0' + len(c.hist) - i)), DeleteMarker: ch == 'D'})
		}
		sel := selectVersions(recs, c.n)
		var got strings.Builder
		for i, r := range sel {
			if r.DeleteMarker {
				got.WriteByte('D')
			} else {
				got.WriteByte('V')
			}
			if i > 0 && sel[i-1].VersionID >= r.VersionID {
				t.Errorf("%s n=%d: not oldest first: %v", c.hist, c.n, sel)
			}
		}
		if got.String() != c.want {
			t.Errorf("selectVersions(%s, %d) = %q, want %q", c.hist, c.n, got.String(), c.want)
		}
	}
}

// TestGroupKeys: records are handed over a key at a time, newest first,
// only for wanted keys and only the newest keep of each.
func TestGroupKeys(t *testing.T) {
	var buf bytes.Buffer
	w, err := recpoint.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range []struct {
		key      string
		versions int
	}{{"a", 3}, {"b", 4}, {"c", 5}, {"d", 1}} {
		for v := range kv.versions {
			if err := w.Write(&recpoint.Record{Key: kv.key, VersionID: fmt.Sprint(kv.versions - v)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	stream := buf.String()
	groups := func(keep, stopAfter int) []string {
		rd, err := recpoint.NewReader(strings.NewReader(stream))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		err = groupKeys(rd, keep, func(k string) bool { return k != "b" }, func(recs []recpoint.Record) bool {
			g := recs[0].Key + ":"
			for _, r := range recs {
				if r.Key != recs[0].Key {
					t.Errorf("group of %q holds key %q", recs[0].Key, r.Key)
				}
				g += r.VersionID
			}
			got = append(got, g)
			return len(got) != stopAfter
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	for _, tc := range []struct {
		keep, stopAfter int
		want            []string
	}{
		{0, 0, []string{"a:321", "c:54321", "d:1"}},
		{2, 0, []string{"a:32", "c:54", "d:1"}},
		{1, 2, []string{"a:3", "c:5"}},
	} {
		if got := groups(tc.keep, tc.stopAfter); !slices.Equal(got, tc.want) {
			t.Errorf("keep %d, stop after %d: groups %q, want %q", tc.keep, tc.stopAfter, got, tc.want)
		}
	}
}
