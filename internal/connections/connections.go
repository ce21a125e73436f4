package connections

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/connstore"
	"github.com/cofferbackup/coffer/internal/clock"
	"github.com/cofferbackup/coffer/internal/s3source"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// Config is what the connections need.
type Config struct {
	Conns *connstore.Store // the stored connections
	Clock clock.Clock
	Log   *slog.Logger
	// SealKey (32 bytes, derived from the master key) seals secret keys.
	SealKey []byte
	// Static are the connections of the configuration (DefaultConnection
	// from the environment): listed, never stored, not deletable.
	Static map[string]s3source.Config
	// VaultsOn counts the vaults whose data lives on a connection (nil:
	// none can).
	VaultsOn func(ctx context.Context, conn string) (int, error)
	// Template gives a created connection's client the settings of the
	// process (retry policy, part size, timeouts) beside its endpoint.
	Template s3source.Config
}

// Connections owns the S3 connections. Safe for concurrent use.
type Connections struct {
	cfg Config
	mu  sync.Mutex
	// clients holds one client per connection; a deleted connection's
	// client is dropped.
	clients map[string]*s3source.Client
}

// New returns the owner of the connections; the static ones' clients
// are made at once (a bad configuration fails the start).
func New(cfg Config) (*Connections, error) {
	c := &Connections{cfg: cfg, clients: map[string]*s3source.Client{}}
	for name, sc := range cfg.Static {
		cl, err := s3source.New(sc)
		if err != nil {
			return nil, fmt.Errorf("S3 connection %q: %w", name, err)
		}
		c.clients[name] = cl
	}
	return c, nil
}

// Info is what a connection shows: never its secret.
type Info struct {
	Name, Endpoint, Region, AccessKey string
	VirtualHosted, PrivateCA          bool
	CreatedAt                         time.Time
	// Static: from the configuration (COFFER_S3_*), not the API.
	Static bool
}

// CreateInput is a new connection.
type CreateInput struct {
	Name, Endpoint, Region, AccessKey, SecretKey string
	VirtualHosted                                bool
	CACertPEM                                    string
}

func (in CreateInput) config(tmpl s3source.Config) s3source.Config {
	sc := tmpl
	sc.Endpoint, sc.Region, sc.AccessKey, sc.SecretKey = in.Endpoint, in.Region, in.AccessKey, in.SecretKey
	sc.VirtualHosted, sc.CACertPEM = in.VirtualHosted, []byte(in.CACertPEM)
	return sc
}

// Create checks that the endpoint answers with these credentials (a
// ListBuckets), then stores the connection with its secret sealed.
func (c *Connections) Create(ctx context.Context, in CreateInput) (Info, error) {
	if err := vocab.ValidateConnectionName(in.Name); err != nil {
		return Info{}, err
	}
	if _, ok := c.cfg.Static[in.Name]; ok {
		return Info{}, fmt.Errorf("connection %q: %w: it is configured by the server's environment", in.Name, vocab.ErrAlreadyExists)
	}
	if in.AccessKey == "" || in.SecretKey == "" {
		return Info{}, fmt.Errorf("%w: a connection needs an access key and a secret key", vocab.ErrMissingParameter)
	}
	cl, err := s3source.New(in.config(c.cfg.Template))
	if err != nil {
		return Info{}, fmt.Errorf("%w: connection %q: %v", vocab.ErrInvalidParameter, in.Name, err)
	}
	if _, err := cl.ListBuckets(ctx); err != nil {
		return Info{}, fmt.Errorf("%w: connection %q: the endpoint %s refused or did not answer: %v", vocab.ErrInvalidParameter, in.Name, in.Endpoint, err)
	}
	sealed, err := c.seal(in.Name, in.SecretKey)
	if err != nil {
		return Info{}, err
	}
	row := connstore.Connection{Name: in.Name, Endpoint: in.Endpoint, Region: in.Region, AccessKey: in.AccessKey, SecretSealed: sealed,
		VirtualHosted: in.VirtualHosted, CAPEM: in.CACertPEM, CreatedAt: c.cfg.Clock.Now()}
	if err := c.cfg.Conns.CreateConnection(ctx, row); err != nil {
		if errors.Is(err, catalog.ErrExists) {
			return Info{}, fmt.Errorf("connection %q: %w", in.Name, vocab.ErrAlreadyExists)
		}
		return Info{}, err
	}
	c.cfg.Log.Info("connection created", "connection", in.Name, "endpoint", in.Endpoint)
	return infoOf(row), nil
}

func infoOf(r connstore.Connection) Info {
	return Info{Name: r.Name, Endpoint: r.Endpoint, Region: r.Region, AccessKey: r.AccessKey, VirtualHosted: r.VirtualHosted,
		PrivateCA: r.CAPEM != "", CreatedAt: r.CreatedAt}
}

func staticInfo(name string, sc s3source.Config) Info {
	return Info{Name: name, Endpoint: sc.Endpoint, Region: sc.Region, AccessKey: sc.AccessKey, VirtualHosted: sc.VirtualHosted,
		PrivateCA: len(sc.CACertPEM) > 0, Static: true}
}

// Describe shows one connection.
func (c *Connections) Describe(ctx context.Context, name string) (Info, error) {
	if sc, ok := c.cfg.Static[name]; ok {
		return staticInfo(name, sc), nil
	}
	r, err := c.cfg.Conns.Connection(ctx, name)
	if errors.Is(err, catalog.ErrNotFound) {
		return Info{}, fmt.Errorf("connection %q: %w", name, vocab.ErrNotFound)
	}
	if err != nil {
		return Info{}, err
	}
	return infoOf(r), nil
}

// List lists the connections by name, the static ones on the first page.
func (c *Connections) List(ctx context.Context, p catalog.Page) ([]Info, string, error) {
	rows, tok, err := c.cfg.Conns.ListConnections(ctx, p)
	if err != nil {
		return nil, "", err
	}
	var out []Info
	if p.Token == "" {
		for name, sc := range c.cfg.Static {
			out = append(out, staticInfo(name, sc))
		}
	}
	for _, r := range rows {
		out = append(out, infoOf(r))
	}
	return out, tok, nil
}

// Delete removes a connection that nothing uses: no vault keeping its
// data there, no recovery point of one of its buckets, no selection
// naming one, no unfinished job.
func (c *Connections) Delete(ctx context.Context, name string) error {
	if _, ok := c.cfg.Static[name]; ok {
		return fmt.Errorf("%w: connection %q is configured by the server's environment; change it there", vocab.ErrInvalidRequest, name)
	}
	if _, err := c.Describe(ctx, name); err != nil {
		return err
	}
	rps, sels, jobs, err := c.cfg.Conns.ConnectionUse(ctx, name)
	if err != nil {
		return err
	}
	var vaults int
	if c.cfg.VaultsOn != nil {
		if vaults, err = c.cfg.VaultsOn(ctx, name); err != nil {
			return err
		}
	}
	if rps+sels+jobs > 0 || vaults > 0 {
		return fmt.Errorf("%w: connection %q is used by %d vaults, %d recovery points, %d backup selections and %d unfinished jobs",
			vocab.ErrInvalidRequest, name, vaults, rps, sels, jobs)
	}
	if err := c.cfg.Conns.DeleteConnection(ctx, name); err != nil {
		return err
	}
	c.mu.Lock()
	delete(c.clients, name)
	c.mu.Unlock()
	c.cfg.Log.Info("connection deleted", "connection", name)
	return nil
}

// Client returns the client of connection name.
func (c *Connections) Client(ctx context.Context, name string) (*s3source.Client, error) {
	c.mu.Lock()
	cl, ok := c.clients[name]
	c.mu.Unlock()
	if ok {
		return cl, nil
	}
	r, err := c.cfg.Conns.Connection(ctx, name)
	if errors.Is(err, catalog.ErrNotFound) {
		if name == vocab.DefaultConnection {
			return nil, fmt.Errorf("%w: no S3 connection %q is configured (set COFFER_S3_ENDPOINT and credentials)", vocab.ErrInvalidParameter, name)
		}
		return nil, fmt.Errorf("%w: no S3 connection %q (coffer connection list)", vocab.ErrInvalidParameter, name)
	}
	if err != nil {
		return nil, err
	}
	secret, err := c.open(r.Name, r.SecretSealed)
	if err != nil {
		return nil, err
	}
	cl, err = s3source.New(CreateInput{Endpoint: r.Endpoint, Region: r.Region, AccessKey: r.AccessKey, SecretKey: secret,
		VirtualHosted: r.VirtualHosted, CACertPEM: r.CAPEM}.config(c.cfg.Template))
	if err != nil {
		return nil, fmt.Errorf("connection %q: %w", name, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if have, ok := c.clients[name]; ok {
		return have, nil
	}
	c.clients[name] = cl
	return cl, nil
}

// Config returns connection name's endpoint and credentials, for a
// vault whose blobs live on it.
func (c *Connections) Config(ctx context.Context, name string) (s3source.Config, error) {
	if sc, ok := c.cfg.Static[name]; ok {
		return sc, nil
	}
	r, err := c.cfg.Conns.Connection(ctx, name)
	if errors.Is(err, catalog.ErrNotFound) {
		return s3source.Config{}, fmt.Errorf("%w: no S3 connection %q (coffer connection list)", vocab.ErrInvalidParameter, name)
	}
	if err != nil {
		return s3source.Config{}, err
	}
	secret, err := c.open(r.Name, r.SecretSealed)
	if err != nil {
		return s3source.Config{}, err
	}
	return CreateInput{Endpoint: r.Endpoint, Region: r.Region, AccessKey: r.AccessKey, SecretKey: secret,
		VirtualHosted: r.VirtualHosted, CACertPEM: r.CAPEM}.config(c.cfg.Template), nil
}

// Names lists every connection's name: the static ones, then the stored.
func (c *Connections) Names(ctx context.Context) ([]string, error) {
	all, err := catalog.AllPages(func(p catalog.Page) ([]Info, string, error) { return c.List(ctx, p) })
	if err != nil {
		return nil, err
	}
	names := make([]string, len(all))
	for i, in := range all {
		names[i] = in.Name
	}
	return names, nil
}

// seal encrypts secret with AES-256-GCM, bound to the connection's name.
func (c *Connections) seal(name, secret string) (string, error) {
	aead, err := c.aead()
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := aead.Seal(nonce, nonce, []byte(secret), []byte(name))
	return "v1:" + base64.StdEncoding.EncodeToString(out), nil
}

func (c *Connections) open(name, sealed string) (string, error) {
	aead, err := c.aead()
	if err != nil {
		return "", err
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sealed, "v1:"))
	if err != nil || !strings.HasPrefix(sealed, "v1:") || len(raw) < aead.NonceSize() {
		return "", fmt.Errorf("connection %q: its sealed secret is damaged", name)
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(name))
	if err != nil {
		return "", fmt.Errorf("connection %q: its secret does not open under this master key: %w", name, err)
	}
	return string(plain), nil
}

func (c *Connections) aead() (cipher.AEAD, error) {
	b, err := aes.NewCipher(c.cfg.SealKey)
	if err != nil {
		return nil, fmt.Errorf("connection secrets: %w", err)
	}
	return cipher.NewGCM(b)
}
