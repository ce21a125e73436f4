package inventory

import (
	"context"
	"log/slog"
	"sync"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/capturestore"
	"github.com/cofferbackup/coffer/internal/catalog/holdstore"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/clock"
	"github.com/cofferbackup/coffer/internal/s3source"
	"github.com/cofferbackup/coffer/internal/vaults"
	"github.com/cofferbackup/coffer/internal/vaultstore"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// Config configures the inventory.
type Config struct {
	DB *catalog.DB
	// Jobs, Holds and Captures are the stores of the rows the vaults
	// record besides recovery points (rebuilt from them).
	Jobs     *jobstore.Store
	Holds    *holdstore.Store
	Captures *capturestore.Store
	Store    vaultstore.Store
	// Secret derives vault id's repository password (from the master key).
	Secret func(id string) string
	Names  vocab.Names
	Clock  clock.Clock
	Log    *slog.Logger
	// Targeted refuses the deletion of a vault that a live plan targets
	// (the scheduler knows the plans).
	Targeted func(ctx context.Context, vaultName string) error
	// MayDelete refuses the deletion of a recovery point that a vault lock
	// or a legal hold protects (package vaultlock); expiry: the deletion
	// is its expiry at its DeleteAt.
	MayDelete func(ctx context.Context, rp catalog.RecoveryPoint, expiry bool) error
	// Bucket tells about a bucket of a connection (a vault location's).
	Bucket func(ctx context.Context, conn, bucket string) (s3source.BucketInfo, error)
	// ObjectLockDays is the rolling retention of an S3 vault's blobs on a
	// bucket with Object Lock (default 30), which maintenance extends.
	ObjectLockDays int
	// DefaultLocation is where vaults created without a location keep
	// their blobs: "" for the vault's directory, else s3://CONN/BUCKET[/PREFIX].
	DefaultLocation string
	// KeepIdleVaults is how many vaults no job holds stay open (0:
	// vaults.DefaultKeepIdle; negative: all).
	KeepIdleVaults int
}

// Inventory is the owner of vaults and recovery points. Safe for
// concurrent use.
type Inventory struct {
	cfg      Config
	registry *vaults.Registry

	tagMu    sync.Mutex // one recovery-point tag change at a time (tags.go)
	attachMu sync.Mutex // one AttachVault at a time
}

// New returns the inventory over cfg's catalog and vault store.
func New(cfg Config) *Inventory {
	inv := &Inventory{cfg: cfg}
	if cfg.KeepIdleVaults == 0 {
		cfg.KeepIdleVaults = vaults.DefaultKeepIdle
	}
	inv.registry = vaults.New(inv.openVaultFiles, vaults.Options{KeepIdle: cfg.KeepIdleVaults, Log: cfg.Log})
	return inv
}

// Close closes every open vault.
func (inv *Inventory) Close(ctx context.Context) error { return inv.registry.Close(ctx) }
