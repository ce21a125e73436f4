package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// ServiceName is the SigV4 service name requests must be signed for.
const ServiceName = "backup"

// DefaultMaxSkew is the largest accepted difference between a request's
// X-Amz-Date and the server clock when Verifier.MaxSkew is zero (AWS uses
// the same value).
const DefaultMaxSkew = 15 * time.Minute

const (
	algorithm       = "AWS4-HMAC-SHA256"
	scopeTerminator = "aws4_request"
	amzDateFormat   = "20060102T150405Z"
	headerAmzDate   = "X-Amz-Date"
	headerSHA256    = "X-Amz-Content-Sha256"
)

// ErrAccessDenied is wrapped by every verification failure.
var ErrAccessDenied = errors.New("access denied")

// More specific causes; each failure wraps exactly one of them as well as
// ErrAccessDenied.
var (
	ErrMissingAuth       = errors.New("missing authentication")
	ErrMalformedAuth     = errors.New("malformed authorization")
	ErrUnknownKey        = errors.New("unknown access key")
	ErrSignatureMismatch = errors.New("signature mismatch")
	ErrRequestExpired    = errors.New("request time too skewed")
	ErrWrongService      = errors.New("wrong service in credential scope")
	ErrReplayed          = errors.New("request replayed")
)

// Ledger remembers the signatures of accepted mutating requests for as
// long as their time is within the skew window, so that an exact replay is
// refused. The catalog implements it (a table shared by every process of
// one database).
type Ledger interface {
	// RememberSignature records signature until expires and reports
	// whether it was new; it may forget signatures that expired before
	// purgeBefore.
	RememberSignature(ctx context.Context, signature string, purgeBefore, expires time.Time) (fresh bool, err error)
}

// Mutating reports whether a request of method changes something: every
// method but GET and HEAD. Only those are checked for replays; replaying a
// read gives its sender nothing it could not read with the request itself.
func Mutating(method string) bool { return method != http.MethodGet && method != http.MethodHead }

type verifyError struct {
	cause  error
	reason string
}

func (e *verifyError) Error() string {
	return fmt.Sprintf("%v: %v: %s", ErrAccessDenied, e.cause, e.reason)
}

func (e *verifyError) Unwrap() []error { return []error{ErrAccessDenied, e.cause} }

func deny(cause error, format string, args ...any) error {
	return &verifyError{cause: cause, reason: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the AWS error code for a verification failure, as AWS
// services return it (ErrorStatus gives the HTTP status). A request outside
// the clock-skew window gets RequestTimeTooSkewed: aws-sdk-go-v2 (aws/retry,
// clockSkewCodes) and the other SDKs retry that code after correcting their
// clock from the answer's Date header, and unlike InvalidSignatureException
// it tells a skewed clock from a wrong secret.
func ErrorCode(err error) string {
	switch {
	case errors.Is(err, ErrMissingAuth):
		return "MissingAuthenticationTokenException"
	case errors.Is(err, ErrMalformedAuth):
		return "IncompleteSignatureException"
	case errors.Is(err, ErrUnknownKey):
		return "UnrecognizedClientException"
	case errors.Is(err, ErrRequestExpired):
		return "RequestTimeTooSkewed"
	case errors.Is(err, ErrSignatureMismatch), errors.Is(err, ErrWrongService), errors.Is(err, ErrReplayed):
		return "InvalidSignatureException"
	default:
		return "AccessDeniedException"
	}
}

// ErrorStatus returns the HTTP status for a verification failure: 400 for
// a malformed signature (as AWS answers IncompleteSignatureException), 403
// for the rest.
func ErrorStatus(err error) int {
	if errors.Is(err, ErrMalformedAuth) {
		return http.StatusBadRequest
	}
	return http.StatusForbidden
}

// Verifier verifies SigV4 signatures made with one credential pair.
type Verifier struct {
	Creds   Credentials
	Now     func() time.Time // nil means time.Now
	MaxSkew time.Duration    // zero means DefaultMaxSkew
	// Ledger, if set, refuses (ErrReplayed) a mutating request whose
	// signature it has already seen within the skew window.
	Ledger Ledger
}

// authHeader is a parsed Authorization header.
type authHeader struct {
	accessKey, date, region, service string
	signedHeaders                    string // as sent, e.g. "content-type;host;x-amz-date"
	signature                        string
}

// Verify checks that r, whose complete body is body, carries a valid SigV4
// signature for service "backup" made with v.Creds. Any region in the
// credential scope is accepted. The canonical request is rebuilt from the
// method, the escaped path and query as received, and only the headers
// listed in SignedHeaders, then signed again with the aws-sdk-go-v2 signer;
// the payload hash is the SHA-256 of body.
func (v *Verifier) Verify(r *http.Request, body []byte) error {
	ah, signTime, err := v.checkHeaders(r)
	if err != nil {
		return err
	}
	payloadHash, err := checkPayload(r, body)
	if err != nil {
		return err
	}
	req, err := rebuildRequest(r, ah)
	if err != nil {
		return err
	}
	if err := v.compare(r, req, ah, payloadHash, signTime); err != nil {
		return err
	}
	return v.checkReplay(r, ah, signTime)
}

// checkReplay records the signature of a verified mutating request and
// refuses it if it was recorded before. SDKs sign every attempt anew (the
// Amz-Sdk-Request header they sign counts the attempts, and X-Amz-Date
// moves on), so their retries pass; only a copy of a request already
// received has a known signature. A signature is kept until its time
// leaves the skew window, after which checkTime refuses it anyway. An
// error of the ledger is not an authentication failure (it does not wrap
// ErrAccessDenied): the API answers it as a server error.
func (v *Verifier) checkReplay(r *http.Request, ah authHeader, signTime time.Time) error {
	if v.Ledger == nil || !Mutating(r.Method) {
		return nil
	}
	// Purge only what expired one more skew window ago: processes whose
	// clocks differ by less than that never purge a signature that
	// another still accepts.
	purgeBefore := v.Time().Add(-v.maxSkew())
	fresh, err := v.Ledger.RememberSignature(r.Context(), ah.signature, purgeBefore, signTime.Add(v.maxSkew()))
	if err != nil {
		return fmt.Errorf("check the request for a replay: %w", err)
	}
	if !fresh {
		return deny(ErrReplayed, "this signed request was already received; sign every request anew (the AWS SDKs do)")
	}
	return nil
}

func (v *Verifier) maxSkew() time.Duration {
	if v.MaxSkew <= 0 {
		return DefaultMaxSkew
	}
	return v.MaxSkew
}

// Precheck runs the part of Verify that needs only the request line and
// headers: an Authorization header that parses, for service "backup", with
// the known access key id and a time within the skew window. The server
// runs it before reading a body (the signature itself covers the body's
// hash), so that unsigned or malformed requests cost no body read.
func (v *Verifier) Precheck(r *http.Request) error {
	_, _, err := v.checkHeaders(r)
	return err
}

// Time is the verifier's clock (Now, else the wall clock). The server
// answers it in the Date header: SDKs correct their clock skew from there.
func (v *Verifier) Time() time.Time {
	if v.Now != nil {
		return v.Now().UTC()
	}
	return time.Now().UTC()
}

func (v *Verifier) checkHeaders(r *http.Request) (authHeader, time.Time, error) {
	if !v.Creds.Complete() {
		return authHeader{}, time.Time{}, deny(ErrUnknownKey, "the server has no credentials configured")
	}
	if r.URL.Query().Has("X-Amz-Signature") {
		return authHeader{}, time.Time{}, deny(ErrMalformedAuth, "presigned requests are not supported")
	}
	raw := r.Header.Get("Authorization")
	if raw == "" {
		return authHeader{}, time.Time{}, deny(ErrMissingAuth, "missing Authorization header")
	}
	ah, err := parseAuthorization(raw)
	if err != nil {
		return authHeader{}, time.Time{}, err
	}
	if ah.service != ServiceName {
		return authHeader{}, time.Time{}, deny(ErrWrongService, "credential scope service is %q, want %q", ah.service, ServiceName)
	}
	if subtle.ConstantTimeCompare([]byte(ah.accessKey), []byte(v.Creds.AccessKeyID)) != 1 {
		return authHeader{}, time.Time{}, deny(ErrUnknownKey, "the access key id %q is not known", ah.accessKey)
	}
	signTime, err := v.checkTime(r, ah)
	if err != nil {
		return authHeader{}, time.Time{}, err
	}
	return ah, signTime, nil
}

// compare signs req again and compares the result with the client's.
func (v *Verifier) compare(orig, req *http.Request, ah authHeader, payloadHash string, t time.Time) error {
	creds := aws.Credentials{AccessKeyID: v.Creds.AccessKeyID, SecretAccessKey: v.Creds.SecretAccessKey}
	err := v4.NewSigner().SignHTTP(orig.Context(), creds, req, payloadHash, ah.service, ah.region, t)
	if err != nil {
		return deny(ErrMalformedAuth, "cannot rebuild the signature: %v", err)
	}
	mine, err := parseAuthorization(req.Header.Get("Authorization"))
	if err != nil {
		return deny(ErrMalformedAuth, "cannot rebuild the signature: %v", err)
	}
	if mine.signedHeaders != ah.signedHeaders {
		return deny(ErrSignatureMismatch, "signed headers %q cannot be verified (the server signs %q)", ah.signedHeaders, mine.signedHeaders)
	}
	if subtle.ConstantTimeCompare([]byte(mine.signature), []byte(ah.signature)) != 1 {
		return deny(ErrSignatureMismatch, "the request signature does not match; check the secret access key and signing method")
	}
	return nil
}

func (v *Verifier) checkTime(r *http.Request, ah authHeader) (time.Time, error) {
	raw := r.Header.Get(headerAmzDate)
	if raw == "" {
		return time.Time{}, deny(ErrMalformedAuth, "missing X-Amz-Date header")
	}
	t, err := time.Parse(amzDateFormat, raw)
	if err != nil {
		return time.Time{}, deny(ErrMalformedAuth, "X-Amz-Date %q is not in the format %s", raw, amzDateFormat)
	}
	if t.Format("20060102") != ah.date {
		return time.Time{}, deny(ErrMalformedAuth, "credential scope date %s does not match X-Amz-Date %s", ah.date, raw)
	}
	skew := v.maxSkew()
	cur := v.Time()
	if d := cur.Sub(t); d > skew || d < -skew {
		return time.Time{}, deny(ErrRequestExpired, "request time %s differs from server time %s by more than %s",
			t.Format(amzDateFormat), cur.Format(amzDateFormat), skew)
	}
	return t, nil
}

// checkPayload returns the hex SHA-256 of body, after checking it against
// X-Amz-Content-Sha256 when the client sent that header.
func checkPayload(r *http.Request, body []byte) (string, error) {
	sum := sha256.Sum256(body)
	h := hex.EncodeToString(sum[:])
	if sent := r.Header.Get(headerSHA256); sent != "" && !strings.EqualFold(sent, h) {
		return "", deny(ErrSignatureMismatch, "X-Amz-Content-Sha256 %q does not match the SHA-256 of the body", sent)
	}
	return h, nil
}

// rebuildRequest makes an unsigned copy of r holding only what the client
// signed: method, escaped path, raw query, Host and the SignedHeaders.
func rebuildRequest(r *http.Request, ah authHeader) (*http.Request, error) {
	if _, err := url.ParseQuery(r.URL.RawQuery); err != nil {
		return nil, deny(ErrMalformedAuth, "query string cannot be parsed: %v", err)
	}
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	u := &url.URL{Scheme: "http", Host: host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	req := &http.Request{Method: r.Method, URL: u, Host: host, Header: http.Header{}}
	var haveHost, haveDate bool
	for _, name := range strings.Split(ah.signedHeaders, ";") {
		switch name {
		case "host":
			haveHost = true
			continue
		case "content-length":
			req.ContentLength = r.ContentLength
			continue
		case "x-amz-date":
			haveDate = true
		}
		vals := r.Header.Values(name)
		if len(vals) == 0 {
			return nil, deny(ErrMalformedAuth, "signed header %q is not in the request", name)
		}
		req.Header[textproto.CanonicalMIMEHeaderKey(name)] = vals
	}
	if !haveHost || !haveDate {
		return nil, deny(ErrMalformedAuth, "SignedHeaders must include host and x-amz-date")
	}
	return req, nil
}

// parseAuthorization parses
// "AWS4-HMAC-SHA256 Credential=AK/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b, Signature=hex".
func parseAuthorization(raw string) (authHeader, error) {
	alg, rest, ok := strings.Cut(strings.TrimSpace(raw), " ")
	if !ok || alg != algorithm {
		return authHeader{}, deny(ErrMalformedAuth, "Authorization must start with %s", algorithm)
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return authHeader{}, deny(ErrMalformedAuth, "Authorization element %q is not key=value", part)
		}
		fields[k] = val
	}
	var ah authHeader
	cred := fields["Credential"]
	ah.signedHeaders = fields["SignedHeaders"]
	ah.signature = fields["Signature"]
	if cred == "" || ah.signedHeaders == "" || ah.signature == "" {
		return authHeader{}, deny(ErrMalformedAuth, "Authorization needs Credential, SignedHeaders and Signature")
	}
	scope := strings.Split(cred, "/")
	if len(scope) != 5 || scope[4] != scopeTerminator || scope[0] == "" || scope[2] == "" {
		return authHeader{}, deny(ErrMalformedAuth, "credential %q is not ACCESSKEY/DATE/REGION/SERVICE/aws4_request", cred)
	}
	ah.accessKey, ah.date, ah.region, ah.service = scope[0], scope[1], scope[2], scope[3]
	return ah, nil
}
