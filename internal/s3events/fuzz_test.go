package s3events

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: any body either parses into records that each name a bucket
// and a key, or is refused with one of Parse's sentinel errors; no body
// panics, and none gives more than MaxRecords records.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"Records":[{"eventName":"s3:ObjectCreated:Put","eventTime":"2026-01-01T00:00:00Z","s3":{"bucket":{"name":"b"},"object":{"key":"a%2Bb+c","size":"7"}}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		recs, err := Parse(body)
		if err != nil {
			if !errors.Is(err, ErrUnknownShape) && !errors.Is(err, ErrTooManyRecords) {
				t.Fatalf("error without a sentinel: %v", err)
			}
			return
		}
		if len(recs) > MaxRecords {
			t.Fatalf("%d records", len(recs))
		}
		for _, r := range recs {
			if r.Bucket == "" || r.Key == "" || r.Name == "" || r.Time.IsZero() {
				t.Fatalf("incomplete record %+v", r)
			}
		}
	})
}
