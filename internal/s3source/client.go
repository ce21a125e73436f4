package s3source

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/cofferbackup/coffer/internal/retry"
)

const (
	defaultRegion   = "us-east-1"
	defaultPartSize = 8 << 20
	minPartSize     = 5 << 20 // S3's smallest allowed part (but the last)
	maxPartSize     = 5 << 30
	// putThreads parts are buffered and uploaded at once by a multipart
	// upload, so one PutObject holds at most putThreads*PartSize bytes.
	putThreads = 2
)

// Client talks to one endpoint. Safe for concurrent use.
type Client struct {
	cfg      Config
	endpoint *url.URL
	mc       *minio.Client
	core     minio.Core
	httpc    *http.Client // for requests minio-go lacks (object ACLs)
	retry    retry.Policy
	// pageSize is the max-keys of listing requests; 0 leaves it to the
	// endpoint (1000). Tests lower it to exercise paging.
	pageSize int
	// conditional caches, per bucket, whether the endpoint honours
	// If-None-Match: * on writes (see ConditionalWrites).
	conditional *sync.Map // bucket -> bool; shared by copies
}

// New validates cfg and returns a client. It does not contact the endpoint.
func New(cfg Config) (*Client, error) {
	u, err := parseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	if (cfg.AccessKey == "") != (cfg.SecretKey == "") {
		return nil, fmt.Errorf("%w: access key and secret key must be given together", ErrInvalidConfig)
	}
	if cfg.Region == "" {
		cfg.Region = defaultRegion
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = defaultPartSize
	}
	if cfg.PartSize < minPartSize || cfg.PartSize > maxPartSize {
		return nil, fmt.Errorf("%w: part size %d outside [%d, %d]", ErrInvalidConfig, cfg.PartSize, minPartSize, maxPartSize)
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	tr, err := newTransport(u.Scheme == "https", cfg.IdleTimeout)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	if len(cfg.CACertPEM) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(cfg.CACertPEM) {
			return nil, fmt.Errorf("%w: the CA certificates hold no PEM certificate", ErrInvalidConfig)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	lookup := minio.BucketLookupPath
	if cfg.VirtualHosted {
		lookup = minio.BucketLookupDNS
	}
	rt := noteTransport{tr}
	mc, err := minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       u.Scheme == "https",
		Transport:    rt,
		Region:       cfg.Region,
		BucketLookup: lookup,
		// One try per minio-go call: retries are decided by cfg.Retry
		// alone (retry.Policy), not multiplied by minio-go's own loop.
		MaxRetries: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	mc.SetAppInfo("coffer", "1")
	return &Client{
		cfg:         cfg,
		endpoint:    u,
		mc:          mc,
		core:        minio.Core{Client: mc},
		httpc:       &http.Client{Transport: rt},
		retry:       cfg.Retry,
		conditional: &sync.Map{},
	}, nil
}

func parseEndpoint(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("%w: endpoint %q: %v", ErrInvalidConfig, s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%w: endpoint %q: scheme must be http or https", ErrInvalidConfig, s)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("%w: endpoint %q has no host", ErrInvalidConfig, s)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("%w: endpoint %q: only scheme://host[:port] is supported", ErrInvalidConfig, s)
	}
	u.Path = ""
	return u, nil
}

// newTransport is minio-go's default transport (no transparent gzip
// decoding, which would corrupt objects stored with Content-Encoding: gzip)
// with a larger idle pool for parallel object reads, whose connections
// fail a request on which nothing moves for idle (see idleConn).
func newTransport(secure bool, idle time.Duration) (*http.Transport, error) {
	tr, err := minio.DefaultTransport(secure)
	if err != nil {
		return nil, err
	}
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &idleConn{Conn: c, idle: idle}, nil
	}
	tr.MaxIdleConns = 256
	tr.MaxIdleConnsPerHost = 64
	tr.IdleConnTimeout = 90 * time.Second
	tr.DisableCompression = true
	return tr, nil
}

// idleConn pushes its deadline idle ahead at every read and write, so a
// peer that stalls (an answer stopped before its headers or in the middle
// of its body, a request body no longer read) fails the request after
// idle instead of holding it forever: http.Transport times only the wait
// for headers, and a body read had no limit at all. A write also moves
// the deadline of the read in progress, so a pooled connection being
// reused is not cut by the deadline of its idle read. Deadlines are wall
// clock instants, hence time.Now rather than the injectable clock.
type idleConn struct {
	net.Conn
	idle time.Duration
}

func (c *idleConn) Read(b []byte) (int, error) {
	if err := c.Conn.SetDeadline(time.Now().Add(c.idle)); err != nil {
		return 0, err
	}
	return c.Conn.Read(b)
}

func (c *idleConn) Write(b []byte) (int, error) {
	if err := c.Conn.SetDeadline(time.Now().Add(c.idle)); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

// Endpoint returns the configured endpoint URL.
func (c *Client) Endpoint() string { return c.endpoint.String() }

// Region returns the configured region.
func (c *Client) Region() string { return c.cfg.Region }

// noteTransport tells the retry loop of a request (if any) what the server
// answered: a Retry-After header or a throttling status.
type noteTransport struct{ base http.RoundTripper }

func (t noteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Context().Value(ifAbsentKey{}) != nil && isCompleteMultipart(req) && req.Header.Get("If-None-Match") == "" {
		// Not signed, which SigV4 allows for headers other than x-amz-*.
		req = req.Clone(req.Context())
		req.Header.Set("If-None-Match", "*")
	}
	resp, err := t.base.RoundTrip(req)
	if err == nil && resp.StatusCode >= 400 {
		retry.Note(req.Context(), resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	return resp, err
}

// ifAbsentKey marks the context of a PutObjectIfAbsent.
type ifAbsentKey struct{}

func isCompleteMultipart(req *http.Request) bool {
	q := req.URL.Query()
	return req.Method == http.MethodPost && q.Has("uploadId")
}

// Retry returns the connection's retry policy; engines run their steps
// (which call this client) under it, so that one loop decides.
func (c *Client) Retry() retry.Policy { return c.retry }

// do runs one idempotent request (or a few that belong together) under the
// connection's retry policy; inside an engine's step it runs fn once.
func (c *Client) do(ctx context.Context, fn func(ctx context.Context) error) error {
	return c.retry.Do(ctx, func(ctx context.Context) error {
		err := fn(ctx)
		if throttled(err) {
			retry.NoteThrottled(ctx)
		}
		return err
	}, Retryable)
}

// Retryable reports whether an error of this package's calls may go away
// on another try: network errors, truncated answers, 5xx, 408, 429 and the
// S3 codes that mean "try later". Errors of a known kind (ErrNotFound,
// ErrAccessDenied, ...) and other 4xx answers are final.
func Retryable(err error) bool {
	var ce *callerError
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ce) {
		return false
	}
	for _, final := range []error{ErrNoSuchBucket, ErrNotFound, ErrAccessDenied, ErrNotSupported, ErrBucketExists,
		ErrInvalidConfig, ErrSizeMismatch, ErrPreconditionFailed, errListOrder, errNoRewind} {
		if errors.Is(err, final) {
			return false
		}
	}
	resp := minio.ToErrorResponse(err)
	if retryableCodes[resp.Code] {
		return true
	}
	switch resp.StatusCode {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, 499, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout, 520:
		return true
	}
	// An S3 error answer not named above is final; anything else (a reset
	// connection, a truncated or unparsable answer) may be transient.
	return resp.Code == "" && resp.StatusCode == 0
}

// retryableCodes are the S3 error codes that ask for another try.
var retryableCodes = map[string]bool{
	"RequestError": true, "RequestTimeout": true, "InternalError": true, "ServiceUnavailable": true,
	"Throttling": true, "ThrottlingException": true, "RequestLimitExceeded": true, "RequestThrottled": true,
	"SlowDown": true, "SlowDownWrite": true, "SlowDownRead": true, "TooManyRequests": true,
}

// throttled reports answers that ask the client to slow down.
func throttled(err error) bool {
	switch s3Code(err) {
	case "SlowDown", "SlowDownWrite", "SlowDownRead", "Throttling", "ThrottlingException",
		"RequestLimitExceeded", "RequestThrottled", "TooManyRequests", "ServiceUnavailable":
		return true
	}
	return false
}
