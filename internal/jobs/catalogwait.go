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
// answers again. An engine's failure (Engine) never is one, whatever it
// wraps.
func Unreachable(err error) bool {
	var ee *engineError
	if errors.As(err, &ee) {
		return false
	}
	return catalog.IsUnavailable(err) && !errors.Is(err, context.Canceled)
}

// Engine marks err (nil stays nil) as a failure of a data-plane engine:
// the S3 endpoint or the vault, never the catalog, which the engines do
// not use. A refused or reset connection to S3, or a full disk under the
// vault, looks like an unreachable database to catalog.IsUnavailable; a
// job that took it for one was left RUNNING, run again by the takeover
// and given up as "taken over" without the reason.
func Engine(err error) error {
	if err == nil {
		return nil
	}
	return &engineError{err: err}
}

type engineError struct{ err error }

func (e *engineError) Error() string { return e.err.Error() }
func (e *engineError) Unwrap() error { return e.err }
