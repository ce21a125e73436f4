package capturestore

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestInbox: events stored in one call are all read back by bucket, in
// the order received, in batches, and deleted by id; a delete repeated
// (two workers) removes nothing twice, and another process sees the rows.
func TestInbox(t *testing.T) {
	forEachEngine(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		a, b := open(t), open(t) // two processes
		when := time.Date(2026, 3, 4, 5, 6, 7, 89_000_000, time.UTC)
		var in []InboxEvent
		for i := range 5 {
			in = append(in, InboxEvent{Bucket: "photos", Key: fmt.Sprintf("k/ü %d", i), VersionID: fmt.Sprintf("v%d", i),
				Name: "ObjectCreated:Put", Time: when.Add(time.Duration(i) * time.Millisecond), Sequencer: fmt.Sprintf("S%02d", i),
				ETag: "e", Size: int64(i) << 40})
		}
		in = append(in, InboxEvent{Bucket: "other", Key: "x", Name: "ObjectRemoved:Delete", Time: when})
		if err := a.AddInboxEvents(ctx, in); err != nil {
			t.Fatal(err)
		}
		if err := a.AddInboxEvents(ctx, []InboxEvent{{Bucket: "photos", Key: "late", Name: "ObjectCreated:Copy", Time: when}}); err != nil {
			t.Fatal(err)
		}
		buckets, err := b.InboxBuckets(ctx)
		if err != nil || fmt.Sprint(buckets) != "[other photos]" {
			t.Fatalf("InboxBuckets = %v, %v", buckets, err)
		}
		first, err := b.InboxEvents(ctx, "photos", 3)
		if err != nil || len(first) != 3 {
			t.Fatalf("first batch: %d rows, %v", len(first), err)
		}
		for i, e := range first {
			want := in[i]
			want.ID, want.ReceivedAt = e.ID, e.ReceivedAt
			if e != want || e.ID == "" || e.ReceivedAt.IsZero() {
				t.Fatalf("row %d = %+v, want %+v", i, e, want)
			}
		}
		again, err := a.InboxEvents(ctx, "photos", 3)
		if err != nil || len(again) != 3 || again[0].ID != first[0].ID {
			t.Fatalf("the same batch read again: %v %v", again, err)
		}
		ids := []string{first[0].ID, first[1].ID, first[2].ID}
		if n, err := a.DeleteInboxEvents(ctx, "photos", ids); err != nil || n != 3 {
			t.Fatalf("delete: %d %v", n, err)
		}
		if n, err := b.DeleteInboxEvents(ctx, "photos", ids); err != nil || n != 0 {
			t.Fatalf("delete repeated: %d %v, want 0", n, err)
		}
		rest, err := b.InboxEvents(ctx, "photos", 100)
		if err != nil || len(rest) != 3 || rest[0].Key != "k/ü 3" || rest[1].Key != "k/ü 4" || rest[2].Key != "late" {
			t.Fatalf("rest = %+v, %v", rest, err)
		}
		if n, err := b.DeleteInboxEvents(ctx, "other", []string{rest[0].ID}); err != nil || n != 0 {
			t.Fatalf("delete under another bucket: %d %v, want 0", n, err)
		}
	})
}

// TestInboxConnections: events of a bucket name on two connections are
// kept apart: listed per connection and bucket, read per connection.
func TestInboxConnections(t *testing.T) {
	forEachEngine(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		db := open(t)
		when := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
		in := []InboxEvent{
			{Bucket: "photos", Key: "on-default", Name: "ObjectCreated:Put", Time: when},
			{Connection: "other", Bucket: "photos", Key: "on-other", Name: "ObjectCreated:Put", Time: when},
		}
		if err := db.AddInboxEvents(ctx, in); err != nil {
			t.Fatal(err)
		}
		srcs, err := db.InboxSources(ctx)
		if err != nil || fmt.Sprint(srcs) != "[{default photos} {other photos}]" {
			t.Fatalf("InboxSources = %v, %v", srcs, err)
		}
		tests := []struct{ conn, want string }{{"default", "on-default"}, {"other", "on-other"}}
		for _, tt := range tests {
			rows, err := db.InboxEventsOf(ctx, tt.conn, "photos", 10)
			if err != nil || len(rows) != 1 || rows[0].Key != tt.want || rows[0].Connection != tt.conn {
				t.Errorf("events of %s/photos: %+v %v, want only %s", tt.conn, rows, err, tt.want)
			}
		}
	})
}
