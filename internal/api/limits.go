package api

import (
	"context"
	"net/http"
	"time"
)

// Limits bounds what a client can hold of the server: how long it may take
// to send a request, to sit idle on a keep-alive connection and to read an
// answer, and how many request bodies are read at once before their
// signature is known. A zero field takes its default (DefaultLimits).
type Limits struct {
	// HeaderTimeout is how long the request line and headers may take.
	HeaderTimeout time.Duration
	// BodyTimeout is how long a whole request, body included, may take
	// from its first byte; a client still sending then is disconnected.
	BodyTimeout time.Duration
	// IdleTimeout is how long a keep-alive connection may wait for its
	// next request.
	IdleTimeout time.Duration
	// WriteStall is how long the writing of an answer may make no
	// progress (the client reads nothing) before the connection is cut.
	// It is renewed for every chunk written, so a big answer read slowly
	// is never cut, however long it takes.
	WriteStall time.Duration
	// MaxBodyReads is how many request bodies may be read at once: a body
	// is read before its signature can be checked (SigV4 signs the body's
	// hash), so it is what an unauthenticated client can hold.
	MaxBodyReads int
	// BodyReadWait is how long a request waits for one of those slots
	// before it is answered 503 ThrottlingException (which the SDKs
	// retry with backoff).
	BodyReadWait time.Duration
}

// DefaultLimits are the limits a zero Limits field takes.
func DefaultLimits() Limits {
	return Limits{
		HeaderTimeout: 30 * time.Second,
		BodyTimeout:   2 * time.Minute,
		IdleTimeout:   3 * time.Minute,
		WriteStall:    time.Minute,
		MaxBodyReads:  32,
		BodyReadWait:  time.Second,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.HeaderTimeout <= 0 {
		l.HeaderTimeout = d.HeaderTimeout
	}
	if l.BodyTimeout <= 0 {
		l.BodyTimeout = d.BodyTimeout
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = d.IdleTimeout
	}
	if l.WriteStall <= 0 {
		l.WriteStall = d.WriteStall
	}
	if l.MaxBodyReads <= 0 {
		l.MaxBodyReads = d.MaxBodyReads
	}
	if l.BodyReadWait <= 0 {
		l.BodyReadWait = d.BodyReadWait
	}
	return l
}

// WithLimits sets the server's limits (zero fields: defaults) and returns
// it. Call it before serving.
func (s *Server) WithLimits(l Limits) *Server {
	s.limits = l.withDefaults()
	s.bodySlots = make(chan struct{}, s.limits.MaxBodyReads)
	return s
}

// HTTPServer returns an http.Server serving s with its limits.
//
// ReadTimeout is the body deadline: net/http counts it from the first byte
// of a request (an idle keep-alive waits under IdleTimeout instead) and
// clears it once the handler has read the body to its end, so it never
// cuts a handler that runs long. There is deliberately no WriteTimeout: it
// would be one deadline for the whole answer, and cut a slow reader of a
// big listing; deadlineWriter renews a write deadline per chunk instead.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.limits.HeaderTimeout,
		ReadTimeout:       s.limits.BodyTimeout,
		IdleTimeout:       s.limits.IdleTimeout,
	}
}

// acquireBodySlot waits up to BodyReadWait for a body-read slot; release
// gives it back. ok is false when none came free in time.
func (s *Server) acquireBodySlot(ctx context.Context) (release func(), ok bool) {
	release = func() { <-s.bodySlots }
	select {
	case s.bodySlots <- struct{}{}:
		return release, true
	default:
	}
	t := time.NewTimer(s.limits.BodyReadWait)
	defer t.Stop()
	select {
	case s.bodySlots <- struct{}{}:
		return release, true
	case <-t.C:
	case <-ctx.Done():
	}
	return nil, false
}

// writeChunk is how much of an answer is written under one write deadline.
const writeChunk = 16 << 10

// deadlineWriter writes an answer in chunks, each under a fresh write
// deadline of WriteStall: a client that reads, however slowly, is never
// cut; one that stops reading is cut after WriteStall. Connection
// deadlines are wall-clock instants, so they come from time.Now and not
// from the service's (possibly fake) clock.
type deadlineWriter struct {
	http.ResponseWriter
	rc    *http.ResponseController
	stall time.Duration
}

func newDeadlineWriter(w http.ResponseWriter, stall time.Duration) *deadlineWriter {
	rc := http.NewResponseController(w)
	// A keep-alive connection keeps the deadline of its previous answer.
	_ = rc.SetWriteDeadline(time.Time{})
	return &deadlineWriter{ResponseWriter: w, rc: rc, stall: stall}
}

func (d *deadlineWriter) Write(b []byte) (int, error) {
	written := 0
	for len(b) > 0 {
		n := min(len(b), writeChunk)
		_ = d.rc.SetWriteDeadline(time.Now().Add(d.stall))
		m, err := d.ResponseWriter.Write(b[:n])
		written += m
		if err != nil {
			return written, err
		}
		b = b[n:]
	}
	return written, nil
}

// Unwrap lets http.ResponseController reach the connection.
func (d *deadlineWriter) Unwrap() http.ResponseWriter { return d.ResponseWriter }
