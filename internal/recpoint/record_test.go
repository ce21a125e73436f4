package recpoint

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRoundTripNastyKeys(t *testing.T) {
	until := time.Date(2030, 1, 2, 3, 4, 5, 600, time.UTC)
	keys := []string{
		"", " leading space", "a", "a/", "a/b", "a//b", "a/./b", "a/../b", "dir/+plus%25pct?q#frag",
		"line\nbreak\ttab\x00nul", "unicode/ünï©ødé/日本語", "<html>&amp;", strings.Repeat("k", 1024), "\u2028sep",
	}
	var recs []Record
	for i, k := range keys {
		recs = append(recs, Record{
			Key: k, VersionID: "v" + string(rune('a'+i)), IsLatest: i%2 == 0, DeleteMarker: i == 3,
			LastModified: time.Date(2026, 1, 1, 0, 0, i, 123456789, time.UTC), Size: int64(i * 10), ETag: "etag-" + k,
			StorageClass: "STANDARD", ContentType: "text/plain; charset=utf-8", ContentEncoding: "gzip",
			ContentDisposition: `attachment; filename="x y.txt"`, ContentLanguage: "de-DE", CacheControl: "no-cache",
			Expires: "Wed, 21 Oct 2015 07:28:00 GMT", UserMetadata: map[string]string{"owner": k, "empty": ""},
			Checksums: map[string]string{"CRC32": "abc="}, Tags: map[string]string{"t": k}, TagsState: StateCaptured,
			ACL:      &ACL{OwnerID: "o", Grants: []Grant{{GranteeType: "CanonicalUser", GranteeID: "o", Permission: "FULL_CONTROL"}}},
			ACLState: StateCaptured, Lock: &Lock{Mode: "GOVERNANCE", RetainUntil: &until, LegalHold: true}, Data: "obj-" + k,
		})
	}
	// Keys must be sorted for the writer: sort as S3 lists (bytes).
	sortRecords(recs)
	var buf bytes.Buffer
	w, err := NewWriter(&buf)
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
	if w.Count() != int64(len(recs)) {
		t.Fatalf("count %d", w.Count())
	}
	// One record per line, whatever the key holds.
	if lines := bytes.Count(buf.Bytes(), []byte("\n")); lines != len(recs)+1 {
		t.Fatalf("%d lines for %d records", lines, len(recs))
	}
	r, err := NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		var got Record
		if err := r.Next(&got); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, recs[i]) {
			t.Fatalf("record %d differs:\n got %+v\nwant %+v", i, got, recs[i])
		}
	}
	var extra Record
	if err := r.Next(&extra); err != io.EOF {
		t.Fatalf("after last record: %v", err)
	}
}

func sortRecords(recs []Record) {
	for i := 1; i < len(recs); i++ {
		for j := i; j > 0 && recs[j].Key < recs[j-1].Key; j-- {
			recs[j], recs[j-1] = recs[j-1], recs[j]
		}
	}
}

func TestWriterRefusesDisorder(t *testing.T) {
	w, err := NewWriter(io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "a", "b"} { // equal keys are versions of one key
		if err := w.Write(&Record{Key: k}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Write(&Record{Key: "a"}); !errors.Is(err, ErrOutOfOrder) {
		t.Fatalf("got %v, want ErrOutOfOrder", err)
	}
}

// TestReaderRefusesDisorder: a stream whose keys decrease is an error,
// not records grouped wrongly (found by FuzzReader).
func TestReaderRefusesDisorder(t *testing.T) {
	in := `{"format":"coffer-records","version":1}` + "\n" +
		`{"k":"a","vid":"2","mtime":"2026-01-01T00:00:00Z"}` + "\n" + `{"k":"b","mtime":"2026-01-01T00:00:00Z"}` + "\n" +
		`{"k":"a","vid":"1","mtime":"2026-01-01T00:00:00Z"}` + "\n"
	rd, err := NewReader(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var r Record
	for i, want := range []string{"a", "b"} {
		if err := rd.Next(&r); err != nil || r.Key != want {
			t.Fatalf("record %d: %q, %v", i, r.Key, err)
		}
	}
	if err := rd.Next(&r); !errors.Is(err, ErrOutOfOrder) {
		t.Fatalf("got %v, want ErrOutOfOrder", err)
	}
}

func TestReaderRefusesOtherFormats(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"not json", "hello\n"},
		{"other format", `{"format":"tar","version":1}` + "\n"},
		{"future version", `{"format":"coffer-records","version":2}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewReader(strings.NewReader(tt.in)); !errors.Is(err, ErrBadFormat) {
				t.Fatalf("got %v, want ErrBadFormat", err)
			}
		})
	}
	r, err := NewReader(strings.NewReader(`{"format":"coffer-records","version":1}` + "\n{broken\n"))
	if err != nil {
		t.Fatal(err)
	}
	var rec Record
	if err := r.Next(&rec); err == nil || err == io.EOF {
		t.Fatalf("corrupt record read as %v", err)
	}
}
