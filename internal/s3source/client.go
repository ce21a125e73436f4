package s3source

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

const (
	defaultRegion   = "us-east-1"
	defaultPartSize = 16 << 20
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
	// pageSize is the max-keys of listing requests; 0 leaves it to the
	// endpoint (1000). Tests lower it to exercise paging.
	pageSize int
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
	tr, err := newTransport(u.Scheme == "https")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	mc, err := minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       u.Scheme == "https",
		Transport:    tr,
		Region:       cfg.Region,
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	mc.SetAppInfo("coffer", "1")
	return &Client{
		cfg:      cfg,
		endpoint: u,
		mc:       mc,
		core:     minio.Core{Client: mc},
		httpc:    &http.Client{Transport: tr},
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
// with a larger idle pool for parallel object reads.
func newTransport(secure bool) (*http.Transport, error) {
	tr, err := minio.DefaultTransport(secure)
	if err != nil {
		return nil, err
	}
	tr.DialContext = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.MaxIdleConns = 256
	tr.MaxIdleConnsPerHost = 64
	tr.IdleConnTimeout = 90 * time.Second
	tr.DisableCompression = true
	return tr, nil
}

// Endpoint returns the configured endpoint URL.
func (c *Client) Endpoint() string { return c.endpoint.String() }

// Region returns the configured region.
func (c *Client) Region() string { return c.cfg.Region }
