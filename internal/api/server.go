package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cofferbackup/coffer/internal/api/jobapi"
	"github.com/cofferbackup/coffer/internal/api/planapi"
	"github.com/cofferbackup/coffer/internal/api/vaultapi"
	"github.com/cofferbackup/coffer/internal/api/wire"
	"github.com/cofferbackup/coffer/internal/auth"
	"github.com/cofferbackup/coffer/internal/service"
)

// maxBody bounds request bodies; AWS Backup requests are small JSON documents.
const maxBody = 1 << 20

// Server serves the API.
type Server struct {
	svc      *service.Service
	verifier *auth.Verifier
	log      *slog.Logger
	mux      *http.ServeMux
	account  string

	limits    Limits
	bodySlots chan struct{} // one token per body being read (Limits.MaxBodyReads)

	eventsToken string // bearer token of POST /events/s3; "" refuses it
}

// New returns the API server for svc, accepting requests signed with creds.
func New(svc *service.Service, verifier *auth.Verifier, account string, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	if account == "" {
		account = "000000000000"
	}
	// Every server refuses replayed mutating requests, through the
	// catalog's record of recent signatures (shared by the processes of a
	// PostgreSQL catalog, kept across restarts).
	v := *verifier
	if v.Ledger == nil {
		v.Ledger = svc.Catalog()
	}
	s := &Server{svc: svc, verifier: &v, log: log, mux: http.NewServeMux(), account: account}
	s.WithLimits(Limits{})
	s.routes()
	return s
}

// routes registers the operations of every resource family; a request
// for any other is an UnknownOperationException.
func (s *Server) routes() {
	rt := routeTable{s}
	vaultapi.Register(rt, s.svc)
	jobapi.Register(rt, s.svc, s.account)
	planapi.Register(rt, s.svc)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, wire.Error{Status: http.StatusNotFound, Code: "UnknownOperationException",
			Msg: fmt.Sprintf("coffer does not implement %s %s", r.Method, r.URL.Path)})
	})
}

// routeTable is the server's mux as the handler packages register on it.
type routeTable struct{ s *Server }

// Handle routes pattern to h, answering its result with a 200.
func (t routeTable) Handle(pattern string, h wire.Handler) { t.HandleStatus(pattern, http.StatusOK, h) }

// HandleStatus is Handle for an operation whose success is another
// status than 200 (CancelLegalHold's 201).
func (t routeTable) HandleStatus(pattern string, status int, h wire.Handler) {
	s := t.s
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		body := r.Context().Value(bodyKey{}).([]byte)
		out, err := h(r, body)
		if err != nil {
			s.writeFailure(w, r, toAPIError(err), err)
			return
		}
		writeJSON(w, status, out)
	})
}

type bodyKey struct{}

type requestIDKey struct{}

// ServeHTTP authenticates the request, normalises its path and routes it.
func (s *Server) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w := newDeadlineWriter(rw, s.limits.WriteStall)
	id := requestID()
	w.Header().Set("X-Amzn-Requestid", id)
	// The Date header comes from the clock signatures are checked against:
	// SDKs measure their clock skew from it.
	w.Header().Set("Date", s.verifier.Time().Format(http.TimeFormat))
	r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
	defer func() {
		if p := recover(); p != nil {
			err := fmt.Errorf("panic: %v", p)
			s.writeFailure(w, r, wire.Error{Status: 500, Code: "ServiceUnavailableException", Msg: err.Error()}, err)
		}
	}()
	if isEvents(r) { // bearer-token authenticated, not SigV4
		s.serveEvents(w, r)
		return
	}
	body, ok := s.readAuthenticated(w, r)
	if !ok {
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	// Paths are accepted with or without a trailing slash.
	if len(r.URL.Path) > 1 && strings.HasSuffix(r.URL.Path, "/") {
		r.URL.Path = strings.TrimSuffix(r.URL.Path, "/")
		r.URL.RawPath = strings.TrimSuffix(r.URL.RawPath, "/")
	}
	s.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), bodyKey{}, body)))
}

// readAuthenticated returns the body of a correctly signed request, or
// answers the error itself (ok false). What the headers tell is checked
// before the body is read, so an unsigned or malformed request costs no
// body read; the body is read under a slot of Limits.MaxBodyReads and the
// body deadline (Limits.BodyTimeout), then the signature is checked.
func (s *Server) readAuthenticated(w http.ResponseWriter, r *http.Request) (body []byte, ok bool) {
	if err := s.verifier.Precheck(r); err != nil {
		s.refuse(w, r, err)
		return nil, false
	}
	if r.ContentLength != 0 { // -1: chunked
		release, got := s.acquireBodySlot(r.Context())
		if !got {
			closeUnread(w, r)
			w.Header().Set("Retry-After", "1")
			writeError(w, r, wire.Error{Status: http.StatusServiceUnavailable, Code: "ThrottlingException",
				Msg: "too many requests are sending their bodies at once; retry later"})
			return nil, false
		}
		body, ok = s.readBody(w, r)
		release()
		if !ok {
			return nil, false
		}
	}
	if err := s.verifier.Verify(r, body); err != nil {
		s.refuse(w, r, err)
		return nil, false
	}
	return body, true
}

// readBody reads at most maxBody bytes, or answers why not.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		closeUnread(w, r)
		writeError(w, r, wire.Error{Status: http.StatusRequestTimeout, Code: "RequestTimeoutException",
			Msg: fmt.Sprintf("the request was not received within %s", s.limits.BodyTimeout)})
		return nil, false
	case err != nil:
		closeUnread(w, r)
		writeError(w, r, wire.Error{Status: 400, Code: "InvalidRequestException", Msg: "cannot read request body: " + err.Error()})
		return nil, false
	case len(body) > maxBody:
		closeUnread(w, r)
		writeError(w, r, wire.Error{Status: 413, Code: "InvalidRequestException", Msg: "request body over 1 MiB"})
		return nil, false
	}
	return body, true
}

// refuse answers an authentication failure with the code AWS uses for it;
// an error that is not one (the replay check could not reach the catalog)
// is a server error.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, err error) {
	if !errors.Is(err, auth.ErrAccessDenied) {
		closeUnread(w, r)
		s.writeFailure(w, r, toAPIError(err), err)
		return
	}
	s.log.Debug("request refused", "request_id", r.Context().Value(requestIDKey{}), "method", r.Method, "path", r.URL.Path, "err", err)
	closeUnread(w, r)
	writeError(w, r, wire.Error{Status: auth.ErrorStatus(err), Code: auth.ErrorCode(err), Msg: err.Error()})
}

// closeUnread makes the connection close right after the answer when the
// request's body is (possibly) not read to its end: net/http would
// otherwise wait for the rest of the body (up to 256 KiB) to discard it,
// which is what a client that never sends its body holds the server on. A
// read deadline in the past ends that wait at once.
func closeUnread(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength != 0 {
		w.Header().Set("Connection", "close")
		_ = http.NewResponseController(w).SetReadDeadline(time.Unix(1, 0))
	}
}

// writeFailure answers e. A 5xx answer carries the request id instead of
// the error's text, which can name internal paths; the detail goes to the
// log under that id.
func (s *Server) writeFailure(w http.ResponseWriter, r *http.Request, e wire.Error, err error) {
	if e.Status >= 500 {
		id, _ := r.Context().Value(requestIDKey{}).(string)
		s.log.Error("request failed", "request_id", id, "method", r.Method, "path", r.URL.Path, "status", e.Status, "err", err)
		if !e.Public {
			e.Msg = "internal error; the server log has the detail under request id " + id
		} else {
			e.Msg += " (request id " + id + ")"
		}
	}
	writeError(w, r, e)
}

// toAPIError maps a control-plane error to its AWS error code.
func toAPIError(err error) wire.Error {
	var ae wire.Error
	if errors.As(err, &ae) {
		return ae
	}
	msg := err.Error()
	switch {
	case errors.Is(err, service.ErrNotFound):
		return wire.Error{Status: 404, Code: "ResourceNotFoundException", Msg: msg}
	case errors.Is(err, service.ErrAlreadyExists):
		return wire.Error{Status: 400, Code: "AlreadyExistsException", Msg: msg}
	case errors.Is(err, service.ErrInvalidParameter):
		return wire.Error{Status: 400, Code: "InvalidParameterValueException", Msg: msg}
	case errors.Is(err, service.ErrMissingParameter):
		return wire.Error{Status: 400, Code: "MissingParameterValueException", Msg: msg}
	case errors.Is(err, service.ErrInvalidRequest):
		return wire.Error{Status: 400, Code: "InvalidRequestException", Msg: msg}
	case errors.Is(err, service.ErrInvalidState):
		return wire.Error{Status: 400, Code: "InvalidResourceStateException", Msg: msg}
	case errors.Is(err, service.ErrLimitExceeded):
		return wire.Error{Status: 400, Code: "LimitExceededException", Msg: msg}
	case errors.Is(err, service.ErrUnavailable):
		return wire.Error{Status: 503, Code: "ServiceUnavailableException", Msg: msg, Public: true}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return wire.Error{Status: 503, Code: "ServiceUnavailableException", Msg: msg}
	}
	return wire.Error{Status: 500, Code: "ServiceUnavailableException", Msg: msg}
}

func writeError(w http.ResponseWriter, _ *http.Request, e wire.Error) {
	w.Header().Set("X-Amzn-Errortype", e.Code)
	writeJSON(w, e.Status, map[string]string{"__type": e.Code, "Message": e.Msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	b, err := json.Marshal(v)
	if err != nil {
		// Only a handler's bug gets here; the text names no path.
		w.WriteHeader(500)
		fmt.Fprintf(w, `{"__type":"ServiceUnavailableException","Message":%s}`, strconv.Quote("encode response: "+err.Error()))
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
