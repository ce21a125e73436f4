package restorejob

import (
	"context"

	"github.com/cofferbackup/coffer/internal/jobqueue"
	"github.com/cofferbackup/coffer/internal/jobreport"
	"github.com/cofferbackup/coffer/internal/jobs"
	"github.com/cofferbackup/coffer/internal/s3source"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vaults"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// kind is the River kind of restore jobs.
const kind = string(vocab.KindRestore)

// DefaultConnection names the S3 connection of the COFFER_S3_*
// environment (vocab.DefaultConnection).
const DefaultConnection = vocab.DefaultConnection

// kindName names the kind for its River args (jobs.Args).
type kindName struct{}

func (kindName) KindName() vocab.Kind { return vocab.KindRestore }

// Vaults is what restore jobs need of the inventory.
type Vaults interface {
	JobLease(ctx context.Context, name string) (l *vaults.Lease, waitFor string, err error)
	// WithVault runs f on vault name under a shared lease, waiting.
	WithVault(ctx context.Context, name string, f func(*vault.Vault) error) error
}

// Config configures the restore jobs.
type Config struct {
	jobs.Deps
	Vaults Vaults
	// Source returns the client of a connection.
	Source func(ctx context.Context, conn string) (*s3source.Client, error)
	// Parallelism is the number of objects a job writes at once.
	Parallelism int
	// Hasher makes the keyed hashes that stand for object keys in the
	// catalog and the log.
	Hasher jobreport.Hasher
	// Running, for tests only, is called by a restore that is RUNNING and
	// holds its vault's lease, before it reads anything (see
	// service.TestHooks).
	Running func(ctx context.Context, jobID string)
}

// Restores owns the restore jobs.
type Restores struct {
	cfg      Config
	register func(*jobqueue.Kinds) error // its River worker (jobs.Define)
}

// New returns the owner of restore jobs and registers their kind with the
// job core.
func New(cfg Config) *Restores {
	r := &Restores{cfg: cfg}
	r.register = jobs.Define[kindName](cfg.Core, r, r.handle)
	return r
}

// Register registers the River worker of restore jobs.
func (r *Restores) Register(k *jobqueue.Kinds) error {
	return r.register(k)
}

// Restore metadata keys (StartRestoreJob Metadata). Overwrite is coffer's own.
const (
	MetaDestinationBucket = "DestinationBucketName"
	MetaNewBucket         = "NewBucket"
	MetaItemsToRestore    = "ItemsToRestore"
	MetaVersionsUpTo      = "RestoreLatestVersionsUpTo"
	MetaRestoreACLs       = "RestoreACLs"
	MetaOverwrite         = "Overwrite"
	// MetaDestinationConnection names the S3 connection to restore to
	// (coffer's); default: the recovery point's own.
	MetaDestinationConnection = "DestinationConnection"
	// MetaRestoreMode is coffer's: "restore" (the default) or "rollback",
	// an in-place rollback of the recovery point's own bucket.
	MetaRestoreMode = "RestoreMode"
)

// Restore modes (Metadata RestoreMode).
const (
	ModeRestore  = "restore"
	ModeRollback = "rollback"
)

// destConnection is the connection a restore of a recovery point of
// resource rpResource writes to.
func destConnection(md map[string]string, rpResource string) (string, error) {
	if c := md[MetaDestinationConnection]; c != "" {
		return c, vocab.ValidateConnectionName(c)
	}
	conn, _, err := vocab.ParseS3ARN(rpResource)
	return conn, err
}

// What the catalog keeps of ItemsToRestore instead of the items, which
// name objects and are kept in the vault (vault.RestoreItems): their
// number and their keyed digest, which the run checks the vault's copy
// against. Not accepted from requests.
const (
	MetaItemsCount  = "ItemsToRestoreCount"
	MetaItemsDigest = "ItemsToRestoreDigest"
)
