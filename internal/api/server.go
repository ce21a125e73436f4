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
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cofferbackup/coffer/internal/auth"
	"github.com/cofferbackup/coffer/internal/catalog"
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

// handlerFunc handles one operation; a returned error becomes an AWS error.
type handlerFunc func(r *http.Request, body []byte) (any, error)

func (s *Server) routes() {
	s.handle("PUT /backup-vaults/{name}", s.createVault)
	s.handle("GET /backup-vaults/{name}", s.describeVault)
	s.handle("GET /backup-vaults", s.listVaults)
	s.handle("DELETE /backup-vaults/{name}", s.deleteVault)
	s.handle("PUT /backup-vault-attachments", s.attachVault)           // coffer extension
	s.handle("POST /backup-vaults/{name}/verification", s.verifyVault) // coffer extension
	s.handle("PUT /backup-jobs", s.startBackupJob)
	s.handle("GET /backup-jobs/{id}", s.describeBackupJob)
	s.handle("GET /backup-jobs", s.listBackupJobs)
	s.handle("POST /backup-jobs/{id}", s.stopBackupJob)
	s.handle("GET /backup-vaults/{name}/recovery-points", s.listRecoveryPoints)
	s.handle("GET /backup-vaults/{name}/recovery-points/{arn}", s.describeRecoveryPoint)
	s.handle("DELETE /backup-vaults/{name}/recovery-points/{arn}", s.deleteRecoveryPoint)
	s.handle("GET /resources/{arn}/recovery-points", s.listRecoveryPointsByResource)
	s.handle("PUT /restore-jobs", s.startRestoreJob)
	s.handle("GET /restore-jobs/{id}", s.describeRestoreJob)
	s.handle("GET /restore-jobs", s.listRestoreJobs)
	s.handle("GET /supported-resource-types", s.supportedResourceTypes)
	s.planRoutes()
	s.tagRoutes()
	s.maintenanceRoutes() // coffer extension
	s.reportRoutes()      // coffer extension
	s.lockRoutes()
	s.copyRoutes()
	s.connectionRoutes()   // coffer extension
	s.previewRoutes()      // coffer extension
	s.verificationRoutes() // coffer extension
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, apiError{status: http.StatusNotFound, code: "UnknownOperationException",
			msg: fmt.Sprintf("coffer does not implement %s %s", r.Method, r.URL.Path)})
	})
}

func (s *Server) handle(pattern string, h handlerFunc) { s.handleStatus(pattern, http.StatusOK, h) }

// handleStatus is handle for an operation whose success is another
// status than 200 (CancelLegalHold's 201).
func (s *Server) handleStatus(pattern string, status int, h handlerFunc) {
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
			s.writeFailure(w, r, apiError{status: 500, code: "ServiceUnavailableException", msg: err.Error()}, err)
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
			writeError(w, r, apiError{status: http.StatusServiceUnavailable, code: "ThrottlingException",
				msg: "too many requests are sending their bodies at once; retry later"})
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
		writeError(w, r, apiError{status: http.StatusRequestTimeout, code: "RequestTimeoutException",
			msg: fmt.Sprintf("the request was not received within %s", s.limits.BodyTimeout)})
		return nil, false
	case err != nil:
		closeUnread(w, r)
		writeError(w, r, apiError{status: 400, code: "InvalidRequestException", msg: "cannot read request body: " + err.Error()})
		return nil, false
	case len(body) > maxBody:
		closeUnread(w, r)
		writeError(w, r, apiError{status: 413, code: "InvalidRequestException", msg: "request body over 1 MiB"})
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
	writeError(w, r, apiError{status: auth.ErrorStatus(err), code: auth.ErrorCode(err), msg: err.Error()})
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
func (s *Server) writeFailure(w http.ResponseWriter, r *http.Request, e apiError, err error) {
	if e.status >= 500 {
		id, _ := r.Context().Value(requestIDKey{}).(string)
		s.log.Error("request failed", "request_id", id, "method", r.Method, "path", r.URL.Path, "status", e.status, "err", err)
		if !e.public {
			e.msg = "internal error; the server log has the detail under request id " + id
		} else {
			e.msg += " (request id " + id + ")"
		}
	}
	writeError(w, r, e)
}

// apiError is an error in AWS's restJson1 form.
type apiError struct {
	status int
	code   string
	msg    string
	// public: the message of a 5xx is for the caller (it names what did
	// not answer), not internal detail to keep for the log.
	public bool
}

func (e apiError) Error() string { return e.code + ": " + e.msg }

func badParam(format string, args ...any) error {
	return apiError{status: 400, code: "InvalidParameterValueException", msg: fmt.Sprintf(format, args...)}
}

func toAPIError(err error) apiError {
	var ae apiError
	if errors.As(err, &ae) {
		return ae
	}
	msg := err.Error()
	switch {
	case errors.Is(err, service.ErrNotFound):
		return apiError{status: 404, code: "ResourceNotFoundException", msg: msg}
	case errors.Is(err, service.ErrAlreadyExists):
		return apiError{status: 400, code: "AlreadyExistsException", msg: msg}
	case errors.Is(err, service.ErrInvalidParameter):
		return apiError{status: 400, code: "InvalidParameterValueException", msg: msg}
	case errors.Is(err, service.ErrMissingParameter):
		return apiError{status: 400, code: "MissingParameterValueException", msg: msg}
	case errors.Is(err, service.ErrInvalidRequest):
		return apiError{status: 400, code: "InvalidRequestException", msg: msg}
	case errors.Is(err, service.ErrInvalidState):
		return apiError{status: 400, code: "InvalidResourceStateException", msg: msg}
	case errors.Is(err, service.ErrLimitExceeded):
		return apiError{status: 400, code: "LimitExceededException", msg: msg}
	case errors.Is(err, service.ErrUnavailable):
		return apiError{status: 503, code: "ServiceUnavailableException", msg: msg, public: true}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return apiError{status: 503, code: "ServiceUnavailableException", msg: msg}
	}
	return apiError{status: 500, code: "ServiceUnavailableException", msg: msg}
}

func writeError(w http.ResponseWriter, _ *http.Request, e apiError) {
	w.Header().Set("X-Amzn-Errortype", e.code)
	writeJSON(w, e.status, map[string]string{"__type": e.code, "Message": e.msg})
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

// epoch marshals a time as AWS's epoch-seconds JSON number.
type epoch time.Time

func (e epoch) MarshalJSON() ([]byte, error) {
	t := time.Time(e)
	return []byte(strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', -1, 64)), nil
}

// ts returns nil for the zero time so that omitempty drops it.
func ts(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}

func decode(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return apiError{status: 400, code: "SerializationException", msg: "request body is not valid JSON for this operation: " + err.Error()}
	}
	return nil
}

// page reads nextToken and maxResults.
func page(r *http.Request) (catalog.Page, error) {
	q := r.URL.Query()
	p := catalog.Page{Token: q.Get("nextToken")}
	if v := q.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return p, badParam("maxResults must be a number from 1 to 1000, not %q", v)
		}
		p.Max = n
	}
	return p, nil
}

// queryTime parses an ISO 8601 query timestamp (the SDK's format); epoch
// seconds are accepted too.
func queryTime(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && !math.IsNaN(f) {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	return time.Time{}, badParam("%s must be an ISO 8601 timestamp, not %q", name, v)
}

// queryTimes parses several timestamp query parameters.
func queryTimes(r *http.Request, dst map[string]*time.Time) error {
	for name, t := range dst {
		v, err := queryTime(r, name)
		if err != nil {
			return err
		}
		*t = v
	}
	return nil
}

// page0 is a first page of at most 10 items.
func page0() catalog.Page { return catalog.Page{Max: 10} }
