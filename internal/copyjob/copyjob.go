package copyjob

import (
	"context"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/planstore"
	"github.com/cofferbackup/coffer/internal/jobqueue"
	"github.com/cofferbackup/coffer/internal/jobreport"
	"github.com/cofferbackup/coffer/internal/jobs"
	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vaults"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// kind is the River kind of copy jobs.
const kind = string(vocab.KindCopy)

type kindName struct{}

func (kindName) KindName() vocab.Kind { return vocab.KindCopy }

// Vaults is what copy jobs need of the inventory.
type Vaults interface {
	Vault(ctx context.Context, name string) (catalog.Vault, error)
	JobLease(ctx context.Context, name string) (l *vaults.Lease, waitFor string, err error)
	// WithVault runs f on vault name under a shared lease, waiting.
	WithVault(ctx context.Context, name string, f func(*vault.Vault) error) error
	RegisterRecoveryPoint(ctx context.Context, m recpoint.Manifest) error
	// Committed looks a recovery point up in the vault itself.
	Committed(ctx context.Context, vaultName, id string) (m recpoint.Manifest, found bool, err error)
}

// Config configures the copy jobs.
type Config struct {
	jobs.Deps
	// Plans has the plan rules whose copy actions a backup triggers.
	Plans  *planstore.Store
	Vaults Vaults
	Names  vocab.Names
	// Retention refuses a copy's retention (days, 0: forever) outside the
	// bounds of its destination vault's lock (package vaultlock); nil
	// allows any.
	Retention func(ctx context.Context, vaultName string, days int64) error
	// Parallelism is the number of versions a copy writes at once.
	Parallelism int
	// Hasher makes the keyed hashes that stand for object keys in the
	// catalog and the log (an error may name one).
	Hasher jobreport.Hasher
}

// Copies owns the copy jobs.
type Copies struct {
	cfg      Config
	register func(*jobqueue.Kinds) error
}

// New returns the owner of copy jobs and registers their kind with the
// job core.
func New(cfg Config) *Copies {
	c := &Copies{cfg: cfg}
	c.register = jobs.Define[kindName](cfg.Core, c, c.handle)
	return c
}

// Register registers the River worker of copy jobs.
func (c *Copies) Register(k *jobqueue.Kinds) error { return c.register(k) }
