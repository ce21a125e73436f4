package s3events

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// TestParseShapes: every shape coffer reads gives the records it names,
// keys decoded as each endpoint encodes them; test events give none.
func TestParseShapes(t *testing.T) {
	for _, tt := range []struct {
		file string
		want []Record
	}{
		{"minio-put.json", []Record{{Bucket: "photos", Key: "2026/a b+c.jpg", VersionID: "5e0c9b0a-6f1e-4a39-9d3c-2f3c1a9b7e11",
			Name: "ObjectCreated:Put", Time: at("2026-03-04T05:06:07.089Z"), Sequencer: "1826A2B3C4D5E6F8",
			ETag: "0f343b0931126a20f133d67c2b018a3b", Size: 1234}}},
		{"minio-delete-marker.json", []Record{{Bucket: "photos", Key: "2026/x.jpg", VersionID: "9a1b2c3d-0000-4000-8000-000000000002",
			Name: "ObjectRemoved:DeleteMarkerCreated", Time: at("2026-03-04T05:07:00Z"), Sequencer: "1826A2B3C4D5E700"}}},
		{"aws-records.json", []Record{
			{Bucket: "ledger", Key: "reports/q1 été.csv", VersionID: "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY", Name: "ObjectCreated:CompleteMultipartUpload",
				Time: at("2026-03-04T05:06:07.123Z"), Sequencer: "0055AED6DCD90281E5", ETag: "b54357faf0632cce46e942fa68356b38-10", Size: 52428800},
			{Bucket: "ledger", Key: "old.txt", Name: "ObjectRemoved:Delete", Time: at("2026-03-04T05:06:08Z"), Sequencer: "0055AED6DCD90281E6"}}},
		{"aws-test-event.json", nil},
		{"minio-test-event.json", []Record{}},
		{"eventbridge-created.json", []Record{{Bucket: "ledger", Key: "reports/q1 été.csv", VersionID: "Wq8xZ1.p3E7uVnlT0Hj8ZzS9mI2kQbAa",
			Name: "ObjectCreated:PutObject", Time: at("2026-03-04T05:06:07Z"), Sequencer: "00617F08299329D189",
			ETag: "d41d8cd98f00b204e9800998ecf8427e", Size: 1048576}}},
		{"eventbridge-deleted.json", []Record{{Bucket: "ledger", Key: "reports/old.csv", VersionID: "Zz1.dEleteMarker9",
			Name: "ObjectRemoved:DeleteMarkerCreated", Time: at("2026-03-04T05:09:10.5Z"), Sequencer: "00617F0829932AA001"}}},
		{"ceph-put.json", []Record{{Bucket: "archive", Key: "logs/a+b 100%.txt", VersionID: "Wd4Ckq8cXJpjK1Q0E2vZmYt7aBbCc3D",
			Name: "ObjectCreated:Put", Time: at("2026-03-04T05:06:07.654321Z"), Sequencer: "A3B1D06501C2E21A",
			ETag: "6f5902ac237024bdd0c176cb93063dc4", Size: 2048}}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := Parse(body)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(got) != len(tt.want) || (len(got) > 0 && !reflect.DeepEqual(got, tt.want)) {
				t.Fatalf("Parse =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

// TestParseRefuses: what is not a notification, or too long a one, is an
// error callers can tell apart, and the message names no key.
func TestParseRefuses(t *testing.T) {
	unknown, err := os.ReadFile(filepath.Join("testdata", "unknown.json"))
	if err != nil {
		t.Fatal(err)
	}
	many := `{"Records":[` + strings.Repeat(`{"eventName":"ObjectCreated:Put","eventTime":"2026-01-01T00:00:00Z","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}},`, MaxRecords) +
		`{"eventName":"ObjectCreated:Put","eventTime":"2026-01-01T00:00:00Z","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}`
	for _, tt := range []struct {
		name, body string
		want       error
	}{
		{"unknown shape", string(unknown), ErrUnknownShape},
		{"not JSON", "bucket=a&key=b", ErrUnknownShape},
		{"empty", "", ErrUnknownShape},
		{"record without key", `{"Records":[{"eventName":"ObjectCreated:Put","eventTime":"2026-01-01T00:00:00Z","s3":{"bucket":{"name":"b"}}}]}`, ErrUnknownShape},
		{"bad time", `{"Records":[{"eventName":"ObjectCreated:Put","eventTime":"yesterday","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}`, ErrUnknownShape},
		{"time out of range", `{"Records":[{"eventName":"ObjectCreated:Put","eventTime":"0001-01-01T00:00:00Z","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}`, ErrUnknownShape},
		{"bad key encoding", `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","eventTime":"2026-01-01T00:00:00Z","s3":{"bucket":{"name":"b"},"object":{"key":"secret%zzname"}}}]}`, ErrUnknownShape},
		{"EventBridge without object", `{"source":"aws.s3","detail-type":"Object Created","time":"2026-01-01T00:00:00Z","detail":{"bucket":{"name":"b"}}}`, ErrUnknownShape},
		{"too many records", many, ErrTooManyRecords},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.body))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Parse = %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("message names the key: %v", err)
			}
		})
	}
}
