package capture

import (
	"context"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/capturestore"
	"github.com/cofferbackup/coffer/internal/jobqueue"
	"github.com/cofferbackup/coffer/internal/jobs"
	"github.com/cofferbackup/coffer/internal/s3source"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// kind is the River kind of capture jobs.
const kind = string(vocab.KindCapture)

type kindName struct{}

func (kindName) KindName() vocab.Kind { return vocab.KindCapture }

// DefaultReconcileInterval is how often a protection's reconciliation
// scan runs (Config.ReconcileInterval, --reconcile-interval).
const DefaultReconcileInterval = 15 * time.Minute

// Protection and recovery point states.
const (
	StateCreating  = "CREATING"
	StateAvailable = "AVAILABLE"
	StateStopped   = "STOPPED"
)

// Capture job modes.
const (
	ModeScan   = "scan"
	ModeEvents = "events"
)

// Target is one bucket a continuous rule protects now (see
// scheduler.ContinuousTarget).
type Target struct {
	PlanID, RuleID, VaultName, ResourceARN string
	DeleteAfterDays                        int64
	BackupOptions                          map[string]string
}

// Vaults is what capture needs of the inventory.
type Vaults interface {
	Vault(ctx context.Context, name string) (catalog.Vault, error)
	// WithVault runs f on vault name under a shared lease, waiting.
	WithVault(ctx context.Context, name string, f func(*vault.Vault) error) error
}

// Config configures continuous protection.
type Config struct {
	jobs.Deps
	// Captures holds the protections and the event inbox.
	Captures *capturestore.Store
	Vaults   Vaults
	Names    vocab.Names
	// Source returns the client of a connection.
	Source func(ctx context.Context, conn string) (*s3source.Client, error)
	// Targets lists what continuous rules protect now; failed names the
	// plans that could not be evaluated (their protections are kept).
	Targets func(ctx context.Context) (targets []Target, failed map[string]error, err error)
	// ReconcileInterval is the time between scans (default
	// DefaultReconcileInterval).
	ReconcileInterval time.Duration
	// Parallelism is the number of versions a scan reads at once, and of
	// keys an events batch reads at once.
	Parallelism int
	// Batch is the most events one events job captures (default 1000).
	Batch int
	// Stall is how long capture may fail (the endpoint unreachable)
	// before the protection goes STOPPED (default DefaultStall).
	Stall time.Duration
	// CompactRound rounds the capture log's new start down when retention
	// moves it (default DefaultCompactRound).
	CompactRound time.Duration
	// MayDelete refuses what a legal hold or vault lock keeps (see
	// vaultlock.Locks.MayDelete); nil allows everything.
	MayDelete func(ctx context.Context, rp catalog.RecoveryPoint, expiry bool) error
	// AfterRetain, for tests only, runs between a recovery point's
	// retention (committed) and its sweep; an error stops the compaction
	// there, as a crash would.
	AfterRetain func(ctx context.Context, rpARN string) error
}

// DefaultStall is Config.Stall's default (--continuous-stall).
const DefaultStall = 15 * time.Minute

// Captures owns continuous protections and capture jobs.
type Captures struct {
	cfg      Config
	register func(*jobqueue.Kinds) error
}

// New returns the owner and registers the capture kind with the job core.
func New(cfg Config) *Captures {
	if cfg.ReconcileInterval <= 0 {
		cfg.ReconcileInterval = DefaultReconcileInterval
	}
	if cfg.Parallelism <= 0 {
		cfg.Parallelism = 8
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 1000
	}
	if cfg.Stall <= 0 {
		cfg.Stall = DefaultStall
	}
	if cfg.CompactRound <= 0 {
		cfg.CompactRound = DefaultCompactRound
	}
	c := &Captures{cfg: cfg}
	c.register = jobs.Define[kindName](cfg.Core, nil, c.handle)
	return c
}

// Register registers the River worker of capture jobs.
func (c *Captures) Register(k *jobqueue.Kinds) error { return c.register(k) }
