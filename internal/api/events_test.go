package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/notification"

	"github.com/cofferbackup/coffer/internal/catalog/capturestore"
	"github.com/cofferbackup/coffer/internal/coffertest"
	"github.com/cofferbackup/coffer/internal/testserver"
)

// postEvents sends body to coffer's events endpoint with the official
// client and returns the status and the error type of the answer.
func postEvents(t *testing.T, endpoint, auth string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, endpoint+"/events/s3", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct {
		Type    string `json:"__type"`
		Message string
	}
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &e)
	if resp.StatusCode != 200 && e.Message == "" {
		t.Errorf("status %d without a message: %s", resp.StatusCode, b)
	}
	return resp.StatusCode, e.Type
}

// inboxKeys lists bucket's inbox rows as "key@version name".
func inboxKeys(t *testing.T, e *coffertest.Env, bucket string) []string {
	t.Helper()
	rows, err := e.Service.CaptureStore().InboxEvents(context.Background(), bucket, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, r.Key+"@"+r.VersionID+" "+r.Name)
	}
	return out
}

// TestEventsShapes: each notification shape, posted through a real HTTP
// server, lands in the inbox with its keys decoded, on both catalog
// engines; test events are answered 200 and store nothing.
func TestEventsShapes(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			e := coffertest.Start(t, coffertest.Options{Database: coffertest.Database(t, engine)})
			want := map[string][]string{} // each bucket's inbox so far
			for _, tt := range []struct {
				file, bucket string
				add          []string // the rows the file adds
			}{
				{"minio-put.json", "photos", []string{"2026/a b+c.jpg@5e0c9b0a-6f1e-4a39-9d3c-2f3c1a9b7e11 ObjectCreated:Put"}},
				{"minio-delete-marker.json", "photos", []string{"2026/x.jpg@9a1b2c3d-0000-4000-8000-000000000002 ObjectRemoved:DeleteMarkerCreated"}},
				{"aws-records.json", "ledger", []string{"reports/q1 été.csv@3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY ObjectCreated:CompleteMultipartUpload",
					"old.txt@ ObjectRemoved:Delete"}},
				{"aws-test-event.json", "ledger", nil},
				{"minio-test-event.json", "", nil},
				{"eventbridge-created.json", "ledger", []string{"reports/q1 été.csv@Wq8xZ1.p3E7uVnlT0Hj8ZzS9mI2kQbAa ObjectCreated:PutObject"}},
				{"eventbridge-deleted.json", "ledger", []string{"reports/old.csv@Zz1.dEleteMarker9 ObjectRemoved:DeleteMarkerCreated"}},
				{"ceph-put.json", "archive", []string{"logs/a+b 100%.txt@Wd4Ckq8cXJpjK1Q0E2vZmYt7aBbCc3D ObjectCreated:Put"}},
			} {
				body, err := os.ReadFile(filepath.Join("..", "s3events", "testdata", tt.file))
				if err != nil {
					t.Fatal(err)
				}
				if st, code := postEvents(t, e.Endpoint, "Bearer "+e.EventsToken, body); st != 200 {
					t.Fatalf("%s: status %d %s, want 200", tt.file, st, code)
				}
				got := inboxKeys(t, e, tt.bucket)
				want[tt.bucket] = append(want[tt.bucket], tt.add...)
				if strings.Join(got, "\n") != strings.Join(want[tt.bucket], "\n") {
					t.Fatalf("%s: inbox of %s =\n%s\nwant\n%s", tt.file, tt.bucket, strings.Join(got, "\n"), strings.Join(want[tt.bucket], "\n"))
				}
			}
		})
	}
}

// TestEventsRefused: a missing or wrong token, another method, an unknown
// shape, too big a body and too many records are refused with a message,
// and store nothing.
func TestEventsRefused(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{})
	good, err := os.ReadFile(filepath.Join("..", "s3events", "testdata", "minio-put.json"))
	if err != nil {
		t.Fatal(err)
	}
	unknown, err := os.ReadFile(filepath.Join("..", "s3events", "testdata", "unknown.json"))
	if err != nil {
		t.Fatal(err)
	}
	rec := `{"eventName":"ObjectCreated:Put","eventTime":"2026-01-01T00:00:00Z","s3":{"bucket":{"name":"photos"},"object":{"key":"k"}}}`
	many := []byte(`{"Records":[` + strings.Repeat(rec+",", 1000) + rec + `]}`)
	huge := []byte(`{"Records":[` + rec + `], "pad":"` + strings.Repeat("x", 1<<20) + `"}`)
	for _, tt := range []struct {
		name, auth string
		body       []byte
		status     int
		code       string
	}{
		{"no token", "", good, 401, "UnauthorizedException"},
		{"wrong token", "Bearer " + strings.Repeat("0", len(e.EventsToken)), good, 403, "AccessDeniedException"},
		{"token without Bearer", e.EventsToken, good, 403, "AccessDeniedException"},
		{"SigV4-looking header", "AWS4-HMAC-SHA256 Credential=x", good, 403, "AccessDeniedException"},
		{"unknown shape", "Bearer " + e.EventsToken, unknown, 400, "InvalidRequestException"},
		{"not JSON", "Bearer " + e.EventsToken, []byte("<xml/>"), 400, "InvalidRequestException"},
		{"too many records", "Bearer " + e.EventsToken, many, 400, "InvalidRequestException"},
		{"body over 1 MiB", "Bearer " + e.EventsToken, huge, 413, "InvalidRequestException"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if st, code := postEvents(t, e.Endpoint, tt.auth, tt.body); st != tt.status || code != tt.code {
				t.Fatalf("status %d %s, want %d %s", st, code, tt.status, tt.code)
			}
			if got := inboxKeys(t, e, "photos"); len(got) != 0 {
				t.Fatalf("a refused request stored %v", got)
			}
		})
	}
	resp, err := http.Get(e.Endpoint + "/events/s3")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET /events/s3: %d, want 405", resp.StatusCode)
	}
}

// TestMinIOWebhookEvents: a real MinIO, configured at start to send its
// webhook (with a queue directory) to coffer, notifies puts, overwrites
// and deletes of a versioned bucket; each lands in the inbox with its key
// and version id.
func TestMinIOWebhookEvents(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{})
	const id = "COFFER"
	m := testserver.StartWith(t, testserver.MinIO, testserver.Options{Env: []string{
		"MINIO_NOTIFY_WEBHOOK_ENABLE_" + id + "=on",
		"MINIO_NOTIFY_WEBHOOK_ENDPOINT_" + id + "=" + e.Endpoint + "/events/s3",
		"MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_" + id + "=" + e.EventsToken,
		"MINIO_NOTIFY_WEBHOOK_QUEUE_DIR_" + id + "=" + t.TempDir(),
	}})
	bucket := m.NewBucket(t, true)
	c := m.Client(t)
	ctx := context.Background()
	cfg := notification.Configuration{}
	qc := notification.NewConfig(notification.NewArn("minio", "sqs", "", id, "webhook"))
	qc.AddEvents(notification.ObjectCreatedAll, notification.ObjectRemovedAll)
	cfg.AddQueue(qc)
	m.SetBucketNotification(t, bucket, cfg)
	want := map[string]bool{}
	for _, key := range []string{"plain.txt", "dir/with space+plus.txt", "ünï/çødé%41.bin", "plain.txt"} {
		data := "data of " + key
		info, err := c.PutObject(ctx, bucket, key, strings.NewReader(data), int64(len(data)), minio.PutObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want[key+"@"+info.VersionID+" ObjectCreated:Put"] = true
	}
	if err := c.RemoveObject(ctx, bucket, "dir/with space+plus.txt", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	for v := range c.ListObjects(ctx, bucket, minio.ListObjectsOptions{WithVersions: true, Recursive: true}) {
		if v.Err != nil {
			t.Fatal(v.Err)
		}
		if v.IsDeleteMarker {
			want[v.Key+"@"+v.VersionID+" ObjectRemoved:DeleteMarkerCreated"] = true
		}
	}
	if len(want) != 5 {
		t.Fatalf("expected 4 versions and a delete marker, have %v", want)
	}
	var got []string
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if got = inboxKeys(t, e, bucket); len(got) >= len(want) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	sort.Strings(got)
	var wantList []string
	for k := range want {
		wantList = append(wantList, k)
	}
	sort.Strings(wantList)
	if fmt.Sprint(got) != fmt.Sprint(wantList) {
		t.Fatalf("inbox of %s =\n%s\nwant\n%s\n--- MinIO log ---\n%s", bucket, strings.Join(got, "\n"), strings.Join(wantList, "\n"), m.LogTail(30))
	}
	rows, err := e.Service.CaptureStore().InboxEvents(ctx, bucket, 100)
	if err != nil {
		t.Fatal(err)
	}
	checkMinIORows(t, rows)
}

// checkMinIORows: MinIO's records carry a time, a sequencer, and an etag
// and size for a put.
func checkMinIORows(t *testing.T, rows []capturestore.InboxEvent) {
	t.Helper()
	for _, r := range rows {
		if r.Time.IsZero() || r.Sequencer == "" || r.ReceivedAt.Before(r.Time.Add(-time.Minute)) {
			t.Errorf("row %+v: want an event time, a sequencer and a receive time after it", r)
		}
		if r.Name == "ObjectCreated:Put" && (r.ETag == "" || r.Size == 0) {
			t.Errorf("put row %+v: want an etag and a size", r)
		}
	}
}

// BenchmarkPostEvents: one MinIO webhook request (one record) through the
// HTTP server into the inbox, committed, per operation, on each engine.
func BenchmarkPostEvents(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("..", "s3events", "testdata", "minio-put.json"))
	if err != nil {
		b.Fatal(err)
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			e := coffertest.Start(b, coffertest.Options{Database: coffertest.Database(b, engine)})
			for b.Loop() {
				req, err := http.NewRequest(http.MethodPost, e.Endpoint+"/events/s3", bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				req.Header.Set("Authorization", "Bearer "+e.EventsToken)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		})
	}
}
