package maintenance

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/jobqueue"
	"github.com/cofferbackup/coffer/internal/jobs"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vaults"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// kind is the River kind of maintenance jobs.
const kind = string(vocab.KindMaintenance)

// purpose names maintenance's exclusive lease of a vault: a job that
// finds its vault held says so.
const purpose = "maintenance"

// kindName names the kind for its River args (jobs.Args).
type kindName struct{}

func (kindName) KindName() vocab.Kind { return vocab.KindMaintenance }

// Vaults is what maintenance needs of the inventory.
type Vaults interface {
	Vault(ctx context.Context, name string) (catalog.Vault, error)
	Lease(ctx context.Context, v catalog.Vault, mode vaults.Mode, purpose string, wait bool) (*vaults.Lease, error)
}

// Config configures the maintenance of vaults.
type Config struct {
	jobs.Deps
	Vaults Vaults
	// Held, for tests only, is called once maintenance holds a vault's
	// exclusive lease, before it maintains (see service.TestHooks).
	Held func(ctx context.Context, vaultName string)
	// Compact, when set, compacts what lives in the vault besides
	// recovery points (the capture logs of continuous recovery points:
	// capture.Captures.CompactVault) under the exclusive lease, before the
	// vault's own maintenance marks what is live.
	Compact func(ctx context.Context, vaultName string, v *vault.Vault) error
}

// Maintenance owns the maintenance jobs of every vault.
type Maintenance struct {
	cfg      Config
	register func(*jobqueue.Kinds) error // its River worker (jobs.Define)

	mu sync.Mutex
	// tries counts, by job id, the busy tries of the maintenance jobs
	// waiting for their vault (see lease).
	tries map[string]int
}

// New returns the maintenance owner and registers its kind with the job
// core.
func New(cfg Config) *Maintenance {
	mt := &Maintenance{cfg: cfg, tries: map[string]int{}}
	mt.register = jobs.Define[kindName](cfg.Core, mt, mt.handle)
	return mt
}

// Register registers the River worker of maintenance jobs.
func (mt *Maintenance) Register(k *jobqueue.Kinds) error {
	return mt.register(k)
}

// What asked for a maintenance job (its Trigger).
const (
	TriggerRecoveryPointDeleted = "RECOVERY_POINT_DELETED"
	TriggerExpiry               = "EXPIRY"
	TriggerPeriodic             = "PERIODIC"
	TriggerOnDemand             = "ON_DEMAND"
)

// DefaultMaintenanceInterval is how often the leader queues maintenance of
// every vault (Config.MaintenanceInterval).
const DefaultMaintenanceInterval = 24 * time.Hour

// A maintenance job whose vault jobs hold tries for it maintenanceTries
// times, snoozed maintenanceRetry apart (holding no worker), and then
// waits for it on a worker for at most maintenanceWait: the registry's
// exclusive wait lets new jobs in meanwhile, so a busy vault is not
// starved of jobs, and a vault that never falls idle by itself is still
// maintained between two jobs.
const (
	maintenanceRetry = 2 * time.Second
	maintenanceTries = 15
	maintenanceWait  = 10 * time.Minute
)

// errVaultBusy: the maintenance job must wait for its vault in the queue.
var errVaultBusy = errors.New("vault busy")

// Start queues maintenance of a vault (the on-demand
// StartMaintenanceJob extension). A maintenance job of the vault already
// queued absorbs the request and is returned.
func (mt *Maintenance) Start(ctx context.Context, vaultName string) (jobstore.MaintenanceJob, error) {
	if vaultName == "" {
		return jobstore.MaintenanceJob{}, fmt.Errorf("%w: BackupVaultName is required", vocab.ErrMissingParameter)
	}
	return mt.Request(ctx, vaultName, TriggerOnDemand)
}
