package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/cofferbackup/coffer/internal/backupjob"
	"github.com/cofferbackup/coffer/internal/capture"
	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/capturestore"
	"github.com/cofferbackup/coffer/internal/catalog/connstore"
	"github.com/cofferbackup/coffer/internal/catalog/holdstore"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/catalog/planstore"
	"github.com/cofferbackup/coffer/internal/clock"
	"github.com/cofferbackup/coffer/internal/connections"
	"github.com/cofferbackup/coffer/internal/copyjob"
	"github.com/cofferbackup/coffer/internal/fsmode"
	"github.com/cofferbackup/coffer/internal/inventory"
	"github.com/cofferbackup/coffer/internal/jobqueue"
	"github.com/cofferbackup/coffer/internal/jobs"
	"github.com/cofferbackup/coffer/internal/maintenance"
	"github.com/cofferbackup/coffer/internal/restorejob"
	"github.com/cofferbackup/coffer/internal/retention"
	"github.com/cofferbackup/coffer/internal/s3source"
	"github.com/cofferbackup/coffer/internal/scheduler"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vaultlock"
	"github.com/cofferbackup/coffer/internal/vaultstore"
	"github.com/cofferbackup/coffer/internal/verifyjob"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// DefaultConnection names the S3 connection of the COFFER_S3_*
// environment (vocab.DefaultConnection).
const DefaultConnection = vocab.DefaultConnection

// Config configures the control plane.
type Config struct {
	DataDir string
	// CacheDir, if set, holds the local caches of vaults on S3 (kopia's
	// content and index caches, one directory per vault) instead of
	// DataDir/cache and each vault's own directory. Vaults on the file
	// system keep no cache (vault.Options.CacheDir).
	CacheDir  string
	MasterKey []byte
	// Database holds the catalog and the job queue: empty for SQLite
	// (catalog.db in DataDir), or a postgres:// URL (?search_path=NAME
	// puts coffer's and River's tables in schema NAME). The catalog
	// remembers the master key's fingerprint: another key is refused.
	Database  string
	Region    string // default us-east-1
	AccountID string // default 000000000000
	// Sources maps connection names to endpoints; DefaultConnection serves
	// plain arn:aws:s3:::bucket resources.
	Sources map[string]s3source.Config
	// VaultLocation is where vaults created without a StorageLocation keep
	// their blobs: "" for their directory under DataDir, else
	// s3://CONNECTION/BUCKET[/PREFIX].
	VaultLocation string
	// ObjectLockDays is the rolling S3 Object Lock retention of an S3
	// vault's blobs on a bucket with Object Lock (default 30).
	ObjectLockDays int
	// IdleVaults is how many vaults that no job or request holds stay
	// open, the most recently used (default vaults.DefaultKeepIdle;
	// negative: all). An open vault's engine holds memory; opening one
	// costs its key derivation and index load.
	IdleVaults int
	Clock      clock.Clock
	Logger     *slog.Logger
	// MaxConcurrentJobs bounds the jobs (backups and restores) this
	// process runs at once: the job queue's workers (default 2).
	MaxConcurrentJobs int
	// Parallelism is the number of objects a job reads or writes at once (default 16).
	Parallelism int
	// JanitorInterval is how often the elected leader runs the schedules,
	// enforces job windows and expires recovery points (default 1 minute);
	// negative disables that periodic work.
	JanitorInterval time.Duration
	// HeartbeatInterval, DeadAfter and TakeoverInterval time the liveness
	// of processes (defaults DefaultHeartbeatInterval, DefaultDeadAfter,
	// DefaultTakeoverInterval); a negative TakeoverInterval disables the
	// leader's periodic takeover of dead processes' jobs.
	HeartbeatInterval, DeadAfter, TakeoverInterval time.Duration
	// MaintenanceInterval is how often the elected leader queues a
	// maintenance job for every vault (default
	// DefaultMaintenanceInterval); negative disables it.
	MaintenanceInterval time.Duration
	// ReconcileInterval is the time between the reconciliation scans of a
	// continuous protection (default capture.DefaultReconcileInterval).
	ReconcileInterval time.Duration
	// ContinuousStall is how long capture may fail before a protection
	// goes STOPPED (default capture.DefaultStall).
	ContinuousStall time.Duration
	// CompactRound rounds down the start of a capture log that retention
	// moves (default capture.DefaultCompactRound, an hour; tests use less).
	CompactRound time.Duration
	// ProtectInterval is how often the leader makes and stops
	// continuous protections and queues due scans (default 10 s), and
	// EventsInterval how often it looks for events to capture (default
	// 1 s); a negative JanitorInterval disables both.
	ProtectInterval, EventsInterval time.Duration
	// TestHooks are for tests only (see TestHooks); nil in production.
	TestHooks *TestHooks
	// Vaults is where the vaults live; default a vaultstore.FS over
	// DataDir/vaults.
	Vaults vaultstore.Store
}

// Service is the control plane's facade: it composes the owners (the job
// core, the inventory of vaults and recovery points, the scheduler, the
// backup, restore and maintenance jobs, retention) and keeps the names
// the API layer uses. Safe for concurrent use.
type Service struct {
	cfg Config
	db  *catalog.DB
	// The catalog's stores (internal/catalog/...), made once on db.
	jobStore     *jobstore.Store
	planStore    *planstore.Store
	holdStore    *holdstore.Store
	connStore    *connstore.Store
	captureStore *capturestore.Store
	clock        clock.Clock
	log          *slog.Logger
	conns        *connections.Connections
	store        vaultstore.Store

	queue   *jobqueue.Queue
	dirLock *os.File // flock on the data directory, held while open
	procID  string   // this process's liveness row and River client id

	ctx    context.Context // ends when Close starts: cancels running jobs
	cancel context.CancelFunc
	bg     sync.WaitGroup // the heartbeat and captureEventsBehind

	eventsKick chan struct{} // EventsStored to captureEventsBehind

	core     *jobs.Core
	inv      *inventory.Inventory
	plans    *scheduler.Scheduler
	backups  *backupjob.Backups
	restores *restorejob.Restores
	copies   *copyjob.Copies
	// verifications owns the verification jobs.
	verifications *verifyjob.Verifications
	maint         *maintenance.Maintenance
	expiry        *retention.Expirer
	locks         *vaultlock.Locks
	captures      *capture.Captures
}

// Open opens the catalog (cfg.Database), reconciles it with the vaults and
// resumes or fails jobs interrupted by a previous stop.
func Open(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.AccountID == "" {
		cfg.AccountID = "000000000000"
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxConcurrentJobs <= 0 {
		cfg.MaxConcurrentJobs = 2
	}
	if cfg.Parallelism <= 0 {
		cfg.Parallelism = 16
	}
	if cfg.JanitorInterval == 0 {
		cfg.JanitorInterval = time.Minute
	}
	if cfg.ProtectInterval <= 0 {
		cfg.ProtectInterval = 10 * time.Second
	}
	if cfg.EventsInterval <= 0 {
		cfg.EventsInterval = time.Second
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if cfg.DeadAfter <= 0 {
		cfg.DeadAfter = DefaultDeadAfter
	}
	if cfg.TakeoverInterval == 0 {
		cfg.TakeoverInterval = DefaultTakeoverInterval
	}
	if len(cfg.MasterKey) < 32 {
		return nil, errors.New("open service: master key must be at least 32 bytes")
	}
	if was, err := fsmode.PrivateDir(cfg.DataDir); err != nil {
		return nil, fmt.Errorf("open service: data dir: %w", err)
	} else if was != 0 {
		cfg.Logger.Warn("data directory was open to group or others: made it 0700", "dir", cfg.DataDir, "was", fmt.Sprintf("%04o", was))
	}
	s := &Service{
		cfg: cfg, clock: cfg.Clock, log: cfg.Logger,
		procID: "coffer-" + strings.ToLower(vocab.NewID()),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if err := s.open(ctx); err != nil {
		s.cancel()
		s.closeAll(ctx)
		return nil, fmt.Errorf("open service: %w", err)
	}
	return s, nil
}

// open takes the data directory, opens the catalog and the job queue,
// recovers from the previous stop and starts running jobs.
func (s *Service) open(ctx context.Context) error {
	var err error
	if !s.shared() {
		// SQLite: one process per data directory; the lock proves it, so
		// start-up takes every other process's jobs over at once.
		if s.dirLock, err = lockDir(s.cfg.DataDir); err != nil {
			return err
		}
	}
	if s.store = s.cfg.Vaults; s.store == nil {
		fs, err := vaultstore.NewFS(filepath.Join(s.cfg.DataDir, "vaults"), s.vaultOptions())
		if err != nil {
			return err
		}
		if s.shared() || s.cfg.CacheDir != "" {
			fs.WithCacheRoot(s.cacheRoot())
		}
		fs.WithResolver(s.vaultConnection)
		s.store = fs
	}
	if err := s.openCatalog(ctx); err != nil {
		return err
	}
	s.db.SetClock(s.clock)
	if s.conns, err = connections.New(connections.Config{Conns: s.connStore, Clock: s.clock, Log: s.log, SealKey: connectionSealKey(s.cfg.MasterKey),
		Static: s.cfg.Sources, Template: s.connectionTemplate(),
		VaultsOn: func(ctx context.Context, conn string) (int, error) { return s.inv.VaultsOn(ctx, conn) }}); err != nil {
		return err
	}
	s.compose()
	if err := s.registerProcess(ctx); err != nil {
		return err
	}
	s.pruneCaches(ctx)
	if err := s.openQueue(ctx); err != nil {
		return err
	}
	if err := s.recover(ctx); err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	if err := s.queue.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	return nil
}

// Close stops the running jobs (a backup or maintenance goes back to the
// queue, a restore ends FAILED; queued jobs stay queued and run after the
// next start), marks this process stopped and closes every vault and the
// catalog.
func (s *Service) Close(ctx context.Context) error {
	s.cancel() // cancels running jobs (see jobs.Core.Context) and the heartbeat
	return errors.Join(s.closeAll(ctx)...)
}

func (s *Service) closeAll(ctx context.Context) []error {
	var errs []error
	if s.queue != nil {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		if err := s.queue.Stop(stopCtx); err != nil {
			errs = append(errs, err)
		}
		cancel()
	}
	s.bg.Wait()
	if s.db != nil && s.procID != "" {
		// Our jobs are settled or queued again: nobody needs to wait for
		// our silence to take them over.
		if err := s.db.StopProcess(context.WithoutCancel(ctx), s.procID); err != nil {
			errs = append(errs, err)
		}
	}
	if s.inv != nil {
		if err := s.inv.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if s.shared() && s.cfg.Vaults == nil {
		if err := os.RemoveAll(s.cacheRoot()); err != nil {
			errs = append(errs, fmt.Errorf("remove this process's vault caches: %w", err))
		}
	}
	if s.db != nil {
		if err := s.db.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if s.dirLock != nil {
		if err := s.dirLock.Close(); err != nil { // releases the flock
			errs = append(errs, err)
		}
	}
	return errs
}

// Catalog exposes the catalog for read-only tools and tests.
func (s *Service) Catalog() *catalog.DB { return s.db }

// JobStore exposes the catalog's job rows, for read-only tools and tests.
func (s *Service) JobStore() *jobstore.Store { return s.jobStore }

// CaptureStore exposes the catalog's protections and event inbox: the API
// stores received S3 events there.
func (s *Service) CaptureStore() *capturestore.Store { return s.captureStore }

// names builds the ARNs of this service's resources.
func (s *Service) names() vocab.Names {
	return vocab.Names{Region: s.cfg.Region, AccountID: s.cfg.AccountID}
}

// source returns the client for a resource's connection.
func (s *Service) source(ctx context.Context, conn string) (*s3source.Client, error) {
	return s.conns.Client(ctx, conn)
}

// vaultConnection gives the vault store the endpoint and credentials of
// an S3 vault's connection.
func (s *Service) vaultConnection(ctx context.Context, conn string) (vault.S3Location, error) {
	if s.conns == nil {
		return vault.S3Location{}, errors.New("connections are not open yet")
	}
	c, err := s.conns.Config(ctx, conn)
	if err != nil {
		return vault.S3Location{}, err
	}
	return vault.S3Location{Endpoint: c.Endpoint, Region: c.Region, AccessKey: c.AccessKey, SecretKey: c.SecretKey, RootCA: c.CACertPEM}, nil
}

// vaultBucket tells the inventory about an S3 vault location's bucket.
func (s *Service) vaultBucket(ctx context.Context, conn, bucket string) (s3source.BucketInfo, error) {
	c, err := s.source(ctx, conn)
	if err != nil {
		return s3source.BucketInfo{}, err
	}
	return c.Bucket(ctx, bucket)
}

// connectionTemplate is what a created connection's client takes from
// the configuration: the default connection's settings but its endpoint.
func (s *Service) connectionTemplate() s3source.Config {
	t := s.cfg.Sources[DefaultConnection]
	t.Endpoint, t.AccessKey, t.SecretKey, t.Region, t.VirtualHosted, t.CACertPEM = "", "", "", "", false, nil
	return t
}
