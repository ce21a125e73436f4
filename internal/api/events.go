package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/cofferbackup/coffer/internal/api/wire"
	"github.com/cofferbackup/coffer/internal/catalog/capturestore"
	"github.com/cofferbackup/coffer/internal/s3events"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// eventsPath is where S3 endpoints send event notifications. It is not an
// AWS Backup operation and is not SigV4-signed: endpoints authenticate
// with "Authorization: Bearer <events token>".
const eventsPath = "/events/s3"

// WithEventsToken enables POST /events/s3 with token as its bearer token
// (s3events.LoadOrCreateToken); without one the endpoint refuses every
// request.
func (s *Server) WithEventsToken(token string) *Server {
	s.eventsToken = token
	return s
}

// isEvents reports whether r is for the events endpoint (with or without
// a trailing slash).
func isEvents(r *http.Request) bool {
	return r.URL.Path == eventsPath || r.URL.Path == eventsPath+"/"
}

// serveEvents stores the records of one notification in the inbox and
// answers 200 only once they are committed, so that an endpoint retries
// (MinIO's queue_dir) whatever was not stored. No S3 call is made here:
// capture happens behind the answer.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		closeUnread(w, r)
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, r, wire.Error{Status: http.StatusMethodNotAllowed, Code: "UnknownOperationException",
			Msg: eventsPath + " accepts POST only"})
		return
	}
	if !s.eventsAuthorized(w, r) {
		return
	}
	release, got := s.acquireBodySlot(r.Context())
	if !got {
		closeUnread(w, r)
		w.Header().Set("Retry-After", "1")
		writeError(w, r, wire.Error{Status: http.StatusServiceUnavailable, Code: "ThrottlingException",
			Msg: "too many requests are sending their bodies at once; retry later"})
		return
	}
	body, ok := s.readBody(w, r)
	release()
	if !ok {
		return
	}
	records, err := s3events.Parse(body)
	if err != nil {
		writeError(w, r, wire.Error{Status: 400, Code: "InvalidRequestException", Msg: err.Error()})
		return
	}
	// An endpoint of another connection than the default says which:
	// POST /events/s3?connection=NAME.
	conn := r.URL.Query().Get("connection")
	if conn != "" {
		if err := vocab.ValidateConnectionName(conn); err != nil {
			writeError(w, r, wire.Error{Status: 400, Code: "InvalidRequestException", Msg: err.Error()})
			return
		}
	}
	rows := make([]capturestore.InboxEvent, len(records))
	for i, rec := range records {
		rows[i] = capturestore.InboxEvent{Connection: conn, Bucket: rec.Bucket, Key: rec.Key, VersionID: rec.VersionID, Name: rec.Name,
			Time: rec.Time, Sequencer: rec.Sequencer, ETag: rec.ETag, Size: rec.Size}
	}
	if err := s.svc.CaptureStore().AddInboxEvents(r.Context(), rows); err != nil {
		s.writeFailure(w, r, toAPIError(fmt.Errorf("store events: %w", err)), err)
		return
	}
	s.svc.EventsStored(context.WithoutCancel(r.Context()))
	// Buckets and counts only: keys stay out of the log.
	s.log.Debug("events stored", "request_id", r.Context().Value(requestIDKey{}), "records", len(rows), "buckets", eventBuckets(records))
	writeJSON(w, http.StatusOK, map[string]int{"Stored": len(rows)})
}

// eventsAuthorized checks the bearer token before the body is read, or
// answers 401 (no token) or 403 (another one).
func (s *Server) eventsAuthorized(w http.ResponseWriter, r *http.Request) bool {
	h := r.Header.Get("Authorization")
	var e wire.Error
	switch {
	case s.eventsToken == "":
		e = wire.Error{Status: http.StatusForbidden, Code: "AccessDeniedException", Msg: "this server has no events token configured"}
	case h == "":
		w.Header().Set("WWW-Authenticate", `Bearer realm="coffer events"`)
		e = wire.Error{Status: http.StatusUnauthorized, Code: "UnauthorizedException",
			Msg: "missing Authorization: Bearer <token> (COFFER_EVENTS_TOKEN or events.token in the data directory)"}
	case !s3events.Authorized(h, s.eventsToken):
		e = wire.Error{Status: http.StatusForbidden, Code: "AccessDeniedException", Msg: "the events token is wrong"}
	default:
		return true
	}
	s.log.Debug("events request refused", "request_id", r.Context().Value(requestIDKey{}), "status", e.Status)
	closeUnread(w, r)
	writeError(w, r, e)
	return false
}

// eventBuckets lists the distinct buckets of records, for the log.
func eventBuckets(records []s3events.Record) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range records {
		if !seen[r.Bucket] {
			seen[r.Bucket] = true
			out = append(out, r.Bucket)
		}
	}
	return out
}
