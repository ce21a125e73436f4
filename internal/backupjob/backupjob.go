package backupjob

import (
	"context"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/jobqueue"
	"github.com/cofferbackup/coffer/internal/jobreport"
	"github.com/cofferbackup/coffer/internal/jobs"
	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/s3source"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vaults"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// kind is the River kind of backup jobs.
const kind = string(vocab.KindBackup)

// DefaultConnection names the S3 connection of the COFFER_S3_*
// environment (vocab.DefaultConnection).
const DefaultConnection = vocab.DefaultConnection

// kindName names the kind for its River args (jobs.Args).
type kindName struct{}

func (kindName) KindName() vocab.Kind { return vocab.KindBackup }

// Vaults is what backup jobs need of the inventory.
type Vaults interface {
	Vault(ctx context.Context, name string) (catalog.Vault, error)
	JobLease(ctx context.Context, name string) (l *vaults.Lease, waitFor string, err error)
	RegisterRecoveryPoint(ctx context.Context, m recpoint.Manifest) error
	// WithVault runs f on vault name under a shared lease, waiting.
	WithVault(ctx context.Context, name string, f func(*vault.Vault) error) error
	// Committed looks a recovery point up in the vault itself.
	Committed(ctx context.Context, vaultName, id string) (m recpoint.Manifest, found bool, err error)
}

// Config configures the backup jobs.
type Config struct {
	jobs.Deps
	Vaults Vaults
	Names  vocab.Names
	// Source returns the client of a connection.
	Source func(ctx context.Context, conn string) (*s3source.Client, error)
	// Parallelism is the number of objects a job reads at once.
	Parallelism int
	// Hasher makes the keyed hashes that stand for object keys in the
	// catalog and the log.
	Hasher jobreport.Hasher
	// Running, for tests only, is called by a backup that is RUNNING and
	// holds its vault's lease, before it reads anything; it goes on when
	// Running returns (see service.TestHooks).
	Running func(ctx context.Context, jobID string)
	// Committed, for tests only, is called once a backup's recovery point
	// is committed to its vault, before the catalog records it (see
	// service.TestHooks).
	Committed func(ctx context.Context, jobID string)
	// Retention refuses a job retention (days, 0: forever) outside the
	// bounds of its vault's lock (package vaultlock); nil allows any.
	Retention func(ctx context.Context, vaultName string, days int64) error
	// Ended, if not nil, is called once a job's end is recorded with a
	// recovery point (COMPLETED or PARTIAL): the plan rule's copies start
	// there (package copyjob).
	Ended func(ctx context.Context, j jobstore.BackupJob)
}

// Backups owns the backup jobs.
type Backups struct {
	cfg      Config
	register func(*jobqueue.Kinds) error // its River worker (jobs.Define)
}

// New returns the owner of backup jobs and registers their kind with the
// job core.
func New(cfg Config) *Backups {
	b := &Backups{cfg: cfg}
	b.register = jobs.Define[kindName](cfg.Core, b, b.handle)
	return b
}

// Register registers the River worker of backup jobs.
func (b *Backups) Register(k *jobqueue.Kinds) error {
	return b.register(k)
}

// Backup options coffer understands (BackupOptions of StartBackupJob, the
// AdvancedBackupSettings of plan rules).
const (
	OptBackupACLs       = vocab.OptBackupACLs
	OptBackupObjectTags = vocab.OptBackupObjectTags
	OptReadTagsEvery    = vocab.OptReadTagsEvery
)
