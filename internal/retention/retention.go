package retention

import (
	"context"
	"errors"
	"fmt"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/clock"
)

// Config configures the expiry of recovery points.
type Config struct {
	DB    *catalog.DB
	Clock clock.Clock
	// Delete removes a recovery point from its vault and the catalog.
	Delete func(ctx context.Context, rp catalog.RecoveryPoint) error
	// Reclaim queues the maintenance of a vault that expired recovery
	// points were deleted from.
	Reclaim func(ctx context.Context, vaultName string)
}

// Expirer deletes recovery points whose retention has ended.
type Expirer struct{ cfg Config }

// New returns the expirer.
func New(cfg Config) *Expirer { return &Expirer{cfg: cfg} }

// Expire deletes every recovery point whose retention ended and asks for
// the maintenance of each vault concerned. One recovery point that cannot
// be deleted does not keep the others: it is reported and retried at the
// next call. It returns how many it deleted.
func (e *Expirer) Expire(ctx context.Context) (int, error) {
	now := e.cfg.Clock.Now()
	touched := map[string]bool{}
	failed := map[string]bool{}
	var errs []error
	n := 0
	for progress := true; progress; {
		due, _, err := e.cfg.DB.ListRecoveryPoints(ctx, catalog.RecoveryPointFilter{DueBefore: now, NotHeld: true}, catalog.Page{Max: 100})
		if err != nil {
			return n, err
		}
		progress = false
		for _, rp := range due {
			if failed[rp.ARN] {
				continue
			}
			if err := e.cfg.Delete(ctx, rp); err != nil {
				failed[rp.ARN] = true
				errs = append(errs, fmt.Errorf("expire %s: %w", rp.ARN, err))
				continue
			}
			touched[rp.VaultName] = true
			progress = true
			n++
		}
	}
	for name := range touched {
		e.cfg.Reclaim(ctx, name)
	}
	return n, errors.Join(errs...)
}
