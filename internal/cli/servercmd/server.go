package servercmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/cofferbackup/coffer/internal/api"
	"github.com/cofferbackup/coffer/internal/auth"
	"github.com/cofferbackup/coffer/internal/cli"
	"github.com/cofferbackup/coffer/internal/clock"
	"github.com/cofferbackup/coffer/internal/fsmode"
	"github.com/cofferbackup/coffer/internal/s3events"
	"github.com/cofferbackup/coffer/internal/s3source"
	"github.com/cofferbackup/coffer/internal/service"
	"github.com/cofferbackup/coffer/internal/vaults"
)

func init() {
	cli.Register(cli.Command{Name: "server", Summary: "run the coffer service (API, jobs, vaults) on embedded defaults", Run: runServer})
}

// EnvDatabaseURL is `coffer server`'s catalog database (--database).
const EnvDatabaseURL = "COFFER_DATABASE_URL"

// Config is everything `coffer server` needs, resolved from flags and
// the environment.
type Config struct {
	DataDir, Listen, TLSCert, TLSKey, MasterKeyFile string
	Database                                        string // service.Config.Database
	CacheDir                                        string // service.Config.CacheDir
	EventsToken                                     string // COFFER_EVENTS_TOKEN; "" for events.token in DataDir
	Insecure                                        bool
	Root                                            auth.Credentials
	Source                                          *s3source.Config
	Parallelism, MaxJobs                            int
	// VaultLocation and ObjectLockDays: service.Config's.
	VaultLocation  string
	ObjectLockDays int
	// IdleVaults: service.Config's.
	IdleVaults int
	// MemoryLimitMiB is the Go runtime's soft memory limit (runServer
	// applies it; tests running servers in one process do not).
	MemoryLimitMiB int64
	// Periodic is how often the leader runs schedules, job windows and
	// expiry (service.Config.JanitorInterval); Maintenance how often it
	// queues maintenance of every vault.
	Periodic, Maintenance time.Duration
	// Reconcile is the time between continuous protection's
	// reconciliation scans (service.Config.ReconcileInterval).
	Reconcile time.Duration
	// Stall is how long capture may fail before a continuous protection
	// stops (service.Config.ContinuousStall).
	Stall    time.Duration
	LogLevel string
	Clock    clock.Clock // nil: wall clock
	// Limits bounds the API's connections (timeouts, concurrent body
	// reads); zero fields take api.DefaultLimits.
	Limits api.Limits
}

// ParseConfig resolves the server's configuration from its flags (args)
// and the environment (getenv), flags first.
func ParseConfig(args []string, getenv func(string) string) (Config, error) {
	fs := flag.NewFlagSet("coffer server", flag.ContinueOnError)
	var c Config
	fs.StringVar(&c.DataDir, "data-dir", cli.First(getenv("COFFER_DATA_DIR"), "./coffer-data"), "data directory (env COFFER_DATA_DIR)")
	fs.StringVar(&c.CacheDir, "cache-dir", getenv("COFFER_CACHE_DIR"),
		"directory of the local caches of vaults on S3, default inside the data directory (vaults on the file system keep none) (env COFFER_CACHE_DIR)")
	fs.StringVar(&c.Database, "database", getenv(EnvDatabaseURL),
		"catalog database: empty for SQLite in the data directory, or a postgres:// URL (env "+EnvDatabaseURL+")")
	fs.StringVar(&c.Listen, "listen", cli.First(getenv("COFFER_LISTEN"), "127.0.0.1:8080"), "listen address (env COFFER_LISTEN)")
	fs.StringVar(&c.TLSCert, "tls-cert", getenv("COFFER_TLS_CERT"), "TLS certificate file (env COFFER_TLS_CERT)")
	fs.StringVar(&c.TLSKey, "tls-key", getenv("COFFER_TLS_KEY"), "TLS key file (env COFFER_TLS_KEY)")
	fs.BoolVar(&c.Insecure, "insecure", false, "allow plain HTTP on a non-loopback address")
	fs.IntVar(&c.Parallelism, "parallelism", 16, "objects read or written at once per job")
	fs.IntVar(&c.MaxJobs, "max-jobs", 2, "jobs (backups and restores) running at once")
	fs.Int64Var(&c.MemoryLimitMiB, "memory-limit", DefaultMemoryLimit>>20,
		"soft memory limit of the process in MiB: the garbage collector works harder near it (0: none; env GOMEMLIMIT wins)")
	fs.DurationVar(&c.Periodic, "periodic-interval", time.Minute, "how often the elected leader starts due plan runs, enforces job windows and expires recovery points")
	fs.DurationVar(&c.Maintenance, "maintenance-interval", 24*time.Hour, "how often the elected leader queues maintenance of every vault (negative: never)")
	fs.StringVar(&c.VaultLocation, "vault-location", getenv("COFFER_VAULT_LOCATION"),
		"where vaults created without a location keep their data: empty for the data directory, or s3://CONNECTION/BUCKET[/PREFIX] (env COFFER_VAULT_LOCATION)")
	fs.IntVar(&c.IdleVaults, "idle-vaults", vaults.DefaultKeepIdle,
		"vaults kept open while no job uses them, the most recently used (each holds its index in memory; negative: all)")
	fs.IntVar(&c.ObjectLockDays, "object-lock-days", 30, "rolling S3 Object Lock retention of an S3 vault's data on a bucket with Object Lock; maintenance extends it")
	reconcile := cli.First(getenv("COFFER_RECONCILE_INTERVAL"), "15m")
	defReconcile, err := time.ParseDuration(reconcile)
	if err != nil || defReconcile <= 0 {
		return c, fmt.Errorf("server: COFFER_RECONCILE_INTERVAL %q is not a positive Go duration", reconcile)
	}
	fs.DurationVar(&c.Reconcile, "reconcile-interval", defReconcile,
		"time between the reconciliation scans of a continuously protected bucket, its RPO without events (env COFFER_RECONCILE_INTERVAL)")
	fs.DurationVar(&c.Stall, "continuous-stall", 15*time.Minute,
		"how long capture of a continuously protected bucket may fail (endpoint unreachable) before its recovery point goes STOPPED")
	fs.StringVar(&c.LogLevel, "log-level", cli.First(getenv("COFFER_LOG_LEVEL"), "info"), "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("server: unexpected argument %q", fs.Arg(0))
	}
	if c.Reconcile <= 0 {
		return c, errors.New("server: --reconcile-interval must be positive")
	}
	c.MasterKeyFile = getenv("COFFER_MASTER_KEY_FILE")
	c.EventsToken = getenv("COFFER_EVENTS_TOKEN")
	c.Root = auth.Credentials{AccessKeyID: getenv("COFFER_ROOT_ACCESS_KEY_ID"), SecretAccessKey: getenv("COFFER_ROOT_SECRET_ACCESS_KEY")}
	if c.Database != "" && !service.IsPostgresURL(c.Database) {
		return c, errors.New("server: --database must be a postgres:// URL (or empty for SQLite in the data directory)")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return c, errors.New("server: give both --tls-cert and --tls-key, or neither")
	}
	if !c.Insecure && c.TLSCert == "" && !isLoopback(c.Listen) {
		return c, fmt.Errorf("server: refusing to serve plain HTTP on non-loopback address %q: give --tls-cert/--tls-key or --insecure", c.Listen)
	}
	if ep := getenv("COFFER_S3_ENDPOINT"); ep != "" {
		c.Source = &s3source.Config{Endpoint: ep, AccessKey: getenv("COFFER_S3_ACCESS_KEY"),
			SecretKey: getenv("COFFER_S3_SECRET_KEY"), Region: cli.First(getenv("COFFER_S3_REGION"), "us-east-1")}
	}
	return c, nil
}

// databaseName describes the catalog database for the log, without a
// password.
func databaseName(database string) string {
	if database == "" {
		return "sqlite (catalog.db in the data directory)"
	}
	u, err := url.Parse(database)
	if err != nil {
		return "postgres"
	}
	return u.Redacted()
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func runServer(ctx context.Context, args []string) error {
	c, err := ParseConfig(args, os.Getenv)
	if err != nil {
		return err
	}
	ApplyMemoryLimit(c.MemoryLimitMiB)
	return Serve(ctx, c, nil)
}

// Serve runs the service until ctx ends. ready, if not nil, is called with
// the API endpoint once the server accepts connections.
func Serve(ctx context.Context, c Config, ready func(endpoint string)) error {
	log := slog.New(slog.NewTextHandler(cli.StderrFrom(ctx), &slog.HandlerOptions{Level: parseLevel(c.LogLevel)}))
	if was, err := fsmode.PrivateDir(c.DataDir); err != nil {
		return fmt.Errorf("data dir: %w", err)
	} else if was != 0 {
		log.Warn("data directory was open to group or others: made it 0700", "dir", c.DataDir, "was", fmt.Sprintf("%04o", was))
	}
	key, keyPath, created, err := service.LoadOrCreateMasterKey(c.DataDir, c.MasterKeyFile)
	if err != nil {
		return err
	}
	if created {
		log.Warn("generated a new master key; back it up: without it no vault can be read", "path", keyPath)
	}
	root, credPath, created, err := auth.LoadOrCreateRoot(c.DataDir, c.Root)
	if err != nil {
		return fmt.Errorf("root credentials: %w", err)
	}
	if created {
		log.Warn("generated root API credentials", "path", credPath, "access_key_id", root.AccessKeyID)
	}
	eventsToken, tokenPath, created, err := s3events.LoadOrCreateToken(c.DataDir, c.EventsToken)
	if err != nil {
		return err
	}
	if created {
		log.Warn("generated the token S3 endpoints send events with (Authorization: Bearer <token>)", "path", tokenPath)
	}
	sources := map[string]s3source.Config{}
	if c.Source != nil {
		sources[service.DefaultConnection] = *c.Source
	} else {
		log.Warn("no S3 endpoint configured: set COFFER_S3_ENDPOINT, COFFER_S3_ACCESS_KEY and COFFER_S3_SECRET_KEY to back up buckets")
	}
	svc, err := service.Open(ctx, service.Config{DataDir: c.DataDir, CacheDir: c.CacheDir, MasterKey: key, Database: c.Database, Sources: sources, Clock: c.Clock,
		Logger: log, MaxConcurrentJobs: c.MaxJobs, Parallelism: c.Parallelism, JanitorInterval: c.Periodic, MaintenanceInterval: c.Maintenance,
		VaultLocation: c.VaultLocation, ObjectLockDays: c.ObjectLockDays, IdleVaults: c.IdleVaults,
		ReconcileInterval: c.Reconcile, ContinuousStall: c.Stall})
	if err != nil {
		return err
	}
	defer func() {
		if err := svc.Close(context.Background()); err != nil {
			log.Error("close service", "err", err)
		}
	}()
	now := time.Now
	if c.Clock != nil {
		now = c.Clock.Now
	}
	handler := api.New(svc, &auth.Verifier{Creds: root, Now: now}, "", log).WithLimits(c.Limits).WithEventsToken(eventsToken)
	return listenAndServe(ctx, c, handler.HTTPServer(), log, ready)
}

// listenAndServe serves srv (its handler and limits) on c.Listen.
func listenAndServe(ctx context.Context, c Config, srv *http.Server, log *slog.Logger, ready func(string)) error {
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return fmt.Errorf("listen on %q: %w", c.Listen, err)
	}
	scheme := "http"
	if c.TLSCert != "" {
		scheme = "https"
	}
	endpoint := scheme + "://" + ln.Addr().String()
	if err := cli.WriteServerInfo(c.DataDir, endpoint); err != nil {
		_ = ln.Close()
		return err
	}
	errc := make(chan error, 1)
	go func() {
		if c.TLSCert != "" {
			errc <- srv.ServeTLS(ln, c.TLSCert, c.TLSKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	log.Info("coffer is serving", "endpoint", endpoint, "data_dir", c.DataDir, "database", databaseName(c.Database))
	if ready != nil {
		ready(endpoint)
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	log.Info("coffer stopped")
	return nil
}

func parseLevel(s string) slog.Level {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}
