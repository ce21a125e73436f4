package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
)

// catalogPatience bounds how long a job waits for the catalog database to
// come back to record what it did (its recovery point, its end).
const catalogPatience = 10 * time.Minute

// catalogRetryEvery is the pause between two tries of a catalog write.
const catalogRetryEvery = 2 * time.Second

// UntilCatalog runs write until it succeeds or fails for a reason other
// than the database (a refused transition, a missing row), retrying while
// the catalog database cannot be reached, for at most catalogPatience and
// while coffer runs. What a job did must not be lost because the database
// blinked: a recovery point in the vault is recorded once it is back.
func (c *Core) UntilCatalog(ctx context.Context, what string, write func() error) error {
	ctx, cancel := context.WithTimeout(ctx, catalogPatience)
	defer cancel()
	t := time.NewTicker(catalogRetryEvery)
	defer t.Stop()
	for logged := false; ; {
		err := write()
		if err == nil || !Unreachable(err) {
			return err
		}
		if !logged {
			c.cfg.Log.Warn("catalog database unreachable; retrying", "what", what, "err", err)
			logged = true
		}
		select {
		case <-ctx.Done():
			return err
		case <-c.cfg.Life.Done():
			return err
		case <-t.C:
		}
	}
}

// Unreachable reports whether a catalog error may pass once the database
// answers again.
func Unreachable(err error) bool {
	return catalog.IsUnavailable(err) && !errors.Is(err, context.Canceled)
}
