package capturestore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/internal/catsql"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// InboxEvent is one row of the event inbox (capture_events): an S3 event
// record received and not yet captured.
type InboxEvent struct {
	ID         string // set by AddInboxEvents
	Connection string // the connection whose endpoint sent it ("": the default one)
	Bucket     string
	Key        string
	VersionID  string
	Name       string // S3 event name without "s3:", e.g. ObjectCreated:Put
	Time       time.Time
	Sequencer  string
	ETag       string
	Size       int64
	ReceivedAt time.Time // set by AddInboxEvents (the catalog's clock)
}

// AddInboxEvents stores events in one transaction: all or none are in the
// inbox when it returns, so the caller may answer 200 on nil.
func (s *Store) AddInboxEvents(ctx context.Context, events []InboxEvent) error {
	if len(events) == 0 {
		return nil
	}
	at := s.db.Now().UnixNano()
	return s.db.InTx(ctx, func(tx *catalog.Tx) error {
		for i := range events {
			e := &events[i]
			e.ID = inboxID(at, i)
			e.ReceivedAt = catsql.FromNanos(at)
			if e.Connection == "" {
				e.Connection = vocab.DefaultConnection
			}
			if _, err := tx.SQL().ExecContext(ctx, `INSERT INTO capture_events (id, connection, bucket, object_key, version_id,
				event_name, event_time, sequencer, etag, size, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				e.ID, e.Connection, e.Bucket, e.Key, e.VersionID, e.Name, catsql.ToNanos(e.Time), e.Sequencer, e.ETag, e.Size, at); err != nil {
				return fmt.Errorf("store event %d of %d of bucket %s: %w", i+1, len(events), e.Bucket, err)
			}
		}
		return nil
	})
}

// inboxID is a row id that sorts the records of one request in their
// order (rows are read by received_at, id); the random tail keeps two
// processes receiving in the same nanosecond apart.
func inboxID(at int64, i int) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%016x-%05d-%s", at, i, hex.EncodeToString(b[:]))
}

// InboxEvents is InboxEventsOf the default connection.
func (s *Store) InboxEvents(ctx context.Context, bucket string, limit int) ([]InboxEvent, error) {
	return s.InboxEventsOf(ctx, vocab.DefaultConnection, bucket, limit)
}

// InboxEventsOf returns up to limit (1 to 10,000) of the events of bucket
// on connection conn, oldest received first. The capture worker reads a
// batch, captures it and deletes it with DeleteInboxEvents; reading again
// before the delete gives the same rows, so a worker that dies mid-batch
// loses nothing.
func (s *Store) InboxEventsOf(ctx context.Context, conn, bucket string, limit int) ([]InboxEvent, error) {
	limit = min(max(limit, 1), 10000)
	rows, err := s.db.SQL().QueryContext(ctx, `SELECT id, connection, bucket, object_key, version_id, event_name, event_time,
		sequencer, etag, size, received_at FROM capture_events WHERE connection = ? AND bucket = ?
		ORDER BY received_at, id LIMIT ?`, conn, bucket, limit)
	if err != nil {
		return nil, fmt.Errorf("read event inbox of bucket %s: %w", bucket, err)
	}
	defer rows.Close()
	var out []InboxEvent
	for rows.Next() {
		var e InboxEvent
		var at, recv int64
		if err := rows.Scan(&e.ID, &e.Connection, &e.Bucket, &e.Key, &e.VersionID, &e.Name, &at, &e.Sequencer, &e.ETag, &e.Size, &recv); err != nil {
			return nil, fmt.Errorf("read event inbox of bucket %s: %w", bucket, err)
		}
		e.Time, e.ReceivedAt = catsql.FromNanos(at), catsql.FromNanos(recv)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read event inbox of bucket %s: %w", bucket, err)
	}
	return out, nil
}

// DeleteInboxEvents removes bucket's events with the given ids (those of a
// captured batch) and returns how many it removed; ids already gone (a
// second worker's delete) are no error.
func (s *Store) DeleteInboxEvents(ctx context.Context, bucket string, ids []string) (int, error) {
	total := 0
	for len(ids) > 0 {
		n := min(len(ids), 500) // under every engine's bound on parameters
		args := make([]any, 0, n+1)
		args = append(args, bucket)
		for _, id := range ids[:n] {
			args = append(args, id)
		}
		res, err := s.db.SQL().ExecContext(ctx, `DELETE FROM capture_events WHERE bucket = ? AND id IN (?`+
			strings.Repeat(", ?", n-1)+`)`, args...)
		if err != nil {
			return total, fmt.Errorf("delete captured events of bucket %s: %w", bucket, err)
		}
		k, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("delete captured events of bucket %s: %w", bucket, err)
		}
		total += int(k)
		ids = ids[n:]
	}
	return total, nil
}

// InboxBuckets lists the buckets that have events in the inbox.
func (s *Store) InboxBuckets(ctx context.Context) ([]string, error) {
	rows, err := s.db.SQL().QueryContext(ctx, `SELECT DISTINCT bucket FROM capture_events ORDER BY bucket`)
	if err != nil {
		return nil, fmt.Errorf("list buckets of the event inbox: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var b string
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("list buckets of the event inbox: %w", err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list buckets of the event inbox: %w", err)
	}
	return out, nil
}

// InboxSource is a connection and bucket with events in the inbox.
type InboxSource struct {
	Connection, Bucket string
}

// InboxSources lists the connections and buckets with events in the inbox.
func (s *Store) InboxSources(ctx context.Context) ([]InboxSource, error) {
	rows, err := s.db.SQL().QueryContext(ctx, `SELECT DISTINCT connection, bucket FROM capture_events ORDER BY connection, bucket`)
	if err != nil {
		return nil, fmt.Errorf("list sources of the event inbox: %w", err)
	}
	defer rows.Close()
	var out []InboxSource
	for rows.Next() {
		var s InboxSource
		if err := rows.Scan(&s.Connection, &s.Bucket); err != nil {
			return nil, fmt.Errorf("list sources of the event inbox: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sources of the event inbox: %w", err)
	}
	return out, nil
}
