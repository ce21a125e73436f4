package backup

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/s3source"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// previousOf builds a merge-join reader over recs (written as a stream).
func previousOf(t *testing.T, recs []recpoint.Record) *previous {
	t.Helper()
	var buf bytes.Buffer
	w, err := recpoint.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		if err := w.Write(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	rd, err := recpoint.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return &previous{groups: recpoint.NewGroups(rd, func(err error) { t.Errorf("previous stream error: %v", err) })}
}

func rec(key, vid, etag string, size int64, data string) recpoint.Record {
	return recpoint.Record{Key: key, VersionID: vid, ETag: etag, Size: size, Data: data, LastModified: t0}
}

func ver(key, vid, etag string, size int64) s3source.Version {
	return s3source.Version{Key: key, VersionID: vid, ETag: etag, Size: size, LastModified: t0}
}

func TestPreviousMergeJoin(t *testing.T) {
	dm := recpoint.Record{Key: "d", VersionID: "v9", DeleteMarker: true, LastModified: t0}
	p := previousOf(t, []recpoint.Record{
		rec("a", "v2", "e2", 20, "A2"),
		rec("a", "v1", "e1", 10, "A1"),
		rec("b", "v1", "eb", 5, "B1"),
		rec("c", "null", "ec", 7, "C"),
		dm,
		rec("e", "v1", "ee", 0, ""), // zero bytes: no data needed
		rec("f", "v1", "ef", 3, ""), // data missing: must not be reused
		rec("z", "v1", "ez", 1, "Z"),
	})
	for _, c := range []struct {
		v    s3source.Version
		data string // "" = no match
	}{
		{ver("a", "v3", "e3", 30), ""},   // new version
		{ver("a", "v2", "e2", 20), "A2"}, // same version
		{ver("a", "v1", "e1", 10), "A1"},
		{ver("aa", "v1", "e1", 10), ""},  // key absent from previous
		{ver("b", "v1", "eX", 5), ""},    // ETag differs
		{ver("b", "v1", "eb", 6), ""},    // size differs
		{ver("c", "null", "ec", 7), "C"}, // unversioned, same mtime
		{ver("d", "v9", "", 0), ""},      // delete markers never match
		{ver("e", "v1", "ee", 0), "-"},   // matched, no data
		{ver("f", "v1", "ef", 3), ""},
		{ver("z", "v1", "ez", 1), "Z"},
		{ver("zz", "v1", "ez", 1), ""}, // previous exhausted
	} {
		if c.v.Key == "d" {
			c.v.DeleteMarker = true
		}
		got := p.find(&c.v)
		switch {
		case c.data == "" && got != nil:
			t.Errorf("%s %s: matched %+v, want no match", c.v.Key, c.v.VersionID, got)
		case c.data != "" && got == nil:
			t.Errorf("%s %s: no match, want data %q", c.v.Key, c.v.VersionID, c.data)
		case got != nil && c.data != "-" && got.Data != c.data:
			t.Errorf("%s %s: data %q, want %q", c.v.Key, c.v.VersionID, got.Data, c.data)
		}
	}
}

func TestPreviousUnversionedNeedsSameMtime(t *testing.T) {
	p := previousOf(t, []recpoint.Record{rec("k", "null", "e", 4, "D")})
	v := ver("k", "null", "e", 4)
	v.LastModified = t0.Add(time.Second)
	if got := p.find(&v); got != nil {
		t.Fatalf("unversioned object rewritten with same ETag/size matched: %+v", got)
	}
	v.LastModified = t0
	v.VersionID = ""
	if got := p.find(&v); got == nil || got.Data != "D" {
		t.Fatalf("unversioned object, same ETag/size/mtime, \"\" vs \"null\" id: %+v", got)
	}
	// A versioned listing entry never matches an unversioned record.
	v.VersionID = "abc"
	if got := p.find(&v); got != nil {
		t.Fatalf("version abc matched the null version")
	}
}

// An endpoint whose order differs from byte order makes the join miss,
// never match wrongly.
func TestPreviousOutOfOrderListing(t *testing.T) {
	p := previousOf(t, []recpoint.Record{
		rec("a-c", "v1", "e1", 1, "AC"),
		rec("a/b", "v1", "e2", 1, "AB"),
		rec("b", "v1", "e3", 1, "B"),
	})
	// Directory-walk order: "a/b" before "a-c".
	if got := p.find(ptr(ver("a/b", "v1", "e2", 1))); got == nil || got.Data != "AB" {
		t.Fatalf("a/b: %+v", got)
	}
	if got := p.find(ptr(ver("a-c", "v1", "e1", 1))); got != nil && got.Data != "AC" {
		t.Fatalf("a-c matched the wrong record %+v", got)
	}
	if got := p.find(ptr(ver("b", "v1", "e3", 1))); got == nil || got.Data != "B" {
		t.Fatalf("b after out-of-order keys: %+v", got)
	}
	if got := p.find(ptr(ver("a/b", "v1", "e2", 1))); got != nil && got.Data != "AB" {
		t.Fatalf("going back matched the wrong record %+v", got)
	}
}

func ptr[T any](v T) *T { return &v }

func TestPreviousBrokenStreamDowngrades(t *testing.T) {
	var buf bytes.Buffer
	w, _ := recpoint.NewWriter(&buf)
	r := rec("a", "v1", "e", 1, "A")
	_ = w.Write(&r)
	_ = w.Flush()
	buf.WriteString("{not json\n")
	rd, err := recpoint.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var got error
	p := &previous{groups: recpoint.NewGroups(rd, func(err error) { got = err })}
	if m := p.find(ptr(ver("a", "v1", "e", 1))); m == nil {
		t.Fatal("record before the damage not matched")
	}
	if m := p.find(ptr(ver("b", "v1", "e", 1))); m != nil {
		t.Fatal("matched after the damage")
	}
	if got == nil || !strings.Contains(got.Error(), "read record") {
		t.Fatalf("damage not reported: %v", got)
	}
}
