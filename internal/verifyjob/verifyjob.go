package verifyjob

import (
	"context"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/jobqueue"
	"github.com/cofferbackup/coffer/internal/jobs"
	"github.com/cofferbackup/coffer/internal/vaults"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// kind is the River kind of verification jobs.
const kind = string(vocab.KindVerification)

type kindName struct{}

func (kindName) KindName() vocab.Kind { return vocab.KindVerification }

// Vaults is what verification jobs need of the inventory.
type Vaults interface {
	Vault(ctx context.Context, name string) (catalog.Vault, error)
	JobLease(ctx context.Context, name string) (l *vaults.Lease, waitFor string, err error)
}

// Config configures the verification jobs.
type Config struct {
	jobs.Deps
	Vaults Vaults
	Names  vocab.Names
	// SealKey (32 bytes, derived from the master key) seals the list of
	// problems in the catalog.
	SealKey []byte
}

// Verifications owns the verification jobs.
type Verifications struct {
	cfg      Config
	register func(*jobqueue.Kinds) error
}

// New returns the owner of verification jobs and registers their kind
// with the job core.
func New(cfg Config) *Verifications {
	v := &Verifications{cfg: cfg}
	v.register = jobs.Define[kindName](cfg.Core, v, v.handle)
	return v
}

// Register registers the River worker of verification jobs.
func (v *Verifications) Register(k *jobqueue.Kinds) error { return v.register(k) }
