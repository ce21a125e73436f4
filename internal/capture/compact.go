package capture

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cofferbackup/coffer/internal/capturelog"
	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/vault"
)

// DefaultCompactRound is Config.CompactRound's default: the capture log's
// new start is the retention window's start rounded down to the hour.
const DefaultCompactRound = time.Hour

// CompactVault runs the retention of the capture log of every continuous
// recovery point of vault vaultName (docs/design/continuous-backup.md,
// "Retention and compaction"). Maintenance calls it while it holds the
// vault's exclusive lease, before its mark, so that what retention
// dropped is reclaimed by the same run. Per recovery point, in this
// order: capturelog.Retain (the checkpoint at the window's start, merged
// segments, the state) committed; the catalog's EarliestRestorableTime
// moved to at least that start; capturelog.Sweep (the absorbed segments
// and older checkpoints deleted). A crash between two steps leaves every
// restore in the window exact; the next run completes the sweep.
func (c *Captures) CompactVault(ctx context.Context, vaultName string, v *vault.Vault) error {
	states, err := capturelog.States(ctx, v)
	if err != nil {
		return fmt.Errorf("compact capture logs of vault %q: %w", vaultName, err)
	}
	var errs []error
	for _, st := range states {
		if err := c.compact(ctx, vaultName, v, st); err != nil {
			errs = append(errs, fmt.Errorf("compact capture log of %s: %w", st.ARN, err))
		}
	}
	return errors.Join(errs...)
}

func (c *Captures) compact(ctx context.Context, vaultName string, v *vault.Vault, st capturelog.State) error {
	if from, ok := c.retainFrom(&st); ok && c.mayRetain(ctx, vaultName, &st, from) {
		next, r, err := capturelog.Retain(ctx, v, st, from)
		switch {
		case errors.Is(err, capturelog.ErrNothingToRetain):
		case err != nil:
			return err
		default:
			c.cfg.Log.Info("capture log retained", "rp", st.ARN, "from", from, "absorbed_segments", r.Absorbed,
				"merged_segments", r.Merged, "kept_segments", r.Kept, "checkpoint_records", r.Checkpoint.Records)
			if err := c.retainedInCatalog(ctx, &next); err != nil {
				return err
			}
		}
	}
	if c.cfg.AfterRetain != nil {
		if err := c.cfg.AfterRetain(ctx, st.ARN); err != nil {
			return err
		}
	}
	_, err := capturelog.Sweep(ctx, v, st.RP)
	return err
}

// retainFrom is the capture log's new start for st: the window's start
// (now - DeleteAfterDays, never past the covered time) rounded down to
// Config.CompactRound; ok is false when it would not move the start.
func (c *Captures) retainFrom(st *capturelog.State) (time.Time, bool) {
	if st.DeleteAfterDays <= 0 || st.Covered.IsZero() {
		return time.Time{}, false
	}
	from := c.cfg.Clock.Now().Add(-time.Duration(st.DeleteAfterDays) * 24 * time.Hour)
	if from.After(st.Covered) {
		from = st.Covered
	}
	from = from.Truncate(c.cfg.CompactRound)
	return from, from.After(st.Compacted)
}

// mayRetain asks the vault lock and legal holds (Config.MayDelete) whether
// the versions retention would drop may go: their retention ended at
// from, so it asks as for an expiry at from. A refusal (a legal hold on
// the recovery point) keeps the whole log.
func (c *Captures) mayRetain(ctx context.Context, vaultName string, st *capturelog.State, from time.Time) bool {
	if c.cfg.MayDelete == nil {
		return true
	}
	rp, err := c.cfg.DB.RecoveryPoint(ctx, vaultName, st.ARN)
	if err != nil {
		c.cfg.Log.Warn("capture log kept: its recovery point is not in the catalog", "rp", st.ARN, "err", err)
		return false
	}
	rp.DeleteAt = from
	if err := c.cfg.MayDelete(ctx, rp, true); err != nil {
		c.cfg.Log.Info("capture log kept whole", "rp", st.ARN, "reason", err)
		return false
	}
	return true
}

// retainedInCatalog moves the catalog's EarliestRestorableTime to the
// log's new start (and its counts), before anything is swept.
func (c *Captures) retainedInCatalog(ctx context.Context, st *capturelog.State) error {
	p, err := c.cfg.Captures.Protection(ctx, st.ARN)
	if errors.Is(err, catalog.ErrNotFound) {
		return nil // the catalog rebuild registers it from the state
	}
	if err != nil {
		return err
	}
	return c.saveCatalog(ctx, &p, &windowCounts{earliest: c.earliest(st), size: st.Bytes, objects: st.Versions})
}
