package restorejob

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cofferbackup/coffer/internal/capturelog"
	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/restore"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// MetaRestoreTime is the time a restore of a continuous recovery point
// brings the bucket back to (RFC 3339, fractions allowed).
const MetaRestoreTime = "RestoreTime"

// restoreTime parses and checks the RestoreTime of a restore of rp: for
// a continuous recovery point it is required and must be inside its
// window and outside its gaps; other recovery points refuse it.
func restoreTime(md map[string]string, rp catalog.RecoveryPoint) (time.Time, error) {
	raw := strings.TrimSpace(md[MetaRestoreTime])
	if rp.Kind != catalog.KindContinuous {
		if raw != "" {
			return time.Time{}, fmt.Errorf("%w: Metadata RestoreTime applies to continuous recovery points only; %s is a periodic one", vocab.ErrInvalidParameter, rp.ARN)
		}
		return time.Time{}, nil
	}
	if raw == "" {
		return time.Time{}, fmt.Errorf("%w: Metadata RestoreTime (RFC 3339) is required to restore continuous recovery point %s", vocab.ErrMissingParameter, rp.ARN)
	}
	t, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: Metadata RestoreTime %q is not an RFC 3339 time", vocab.ErrInvalidParameter, raw)
	}
	lo, hi := rp.EarliestRestorable, rp.LatestRestorable
	// The API shows milliseconds: the earliest time shown is restorable.
	if lo.IsZero() || hi.IsZero() || t.Before(lo.Truncate(time.Millisecond)) || t.After(hi) {
		return time.Time{}, fmt.Errorf("%w: RestoreTime %s is outside the restorable window of %s: %s", vocab.ErrInvalidParameter,
			t.UTC().Format(time.RFC3339Nano), rp.ARN, window(lo, hi))
	}
	return t, nil
}

func window(lo, hi time.Time) string {
	if lo.IsZero() || hi.IsZero() {
		return "none yet (the initial capture has not finished)"
	}
	return lo.UTC().Format(time.RFC3339Nano) + " to " + hi.UTC().Format(time.RFC3339Nano)
}

// checkRestoreTime is restoreTime and checkGaps, for StartRestoreJob.
func (r *Restores) checkRestoreTime(ctx context.Context, md map[string]string, rp catalog.RecoveryPoint) error {
	t, err := restoreTime(md, rp)
	if err != nil || t.IsZero() {
		return err
	}
	return r.cfg.Vaults.WithVault(ctx, rp.VaultName, func(vv *vault.Vault) error { return checkGaps(ctx, vv, rp, t) })
}

// checkGaps refuses a restore time inside a gap of the recovery point,
// or before the start of its capture log (from its state in the vault).
func checkGaps(ctx context.Context, vv *vault.Vault, rp catalog.RecoveryPoint, t time.Time) error {
	st, found, err := capturelog.LoadState(ctx, vv, rp.ID)
	if err != nil || !found {
		return err
	}
	if t.Before(st.Compacted) { // the catalog's window lags the vault's
		return fmt.Errorf("%w: RestoreTime %s is outside the restorable window of %s: it starts at %s (retention)", vocab.ErrInvalidParameter,
			t.UTC().Format(time.RFC3339Nano), rp.ARN, st.Compacted.UTC().Format(time.RFC3339Nano))
	}
	for _, g := range st.Gaps {
		if !t.Before(g.From) && t.Before(g.To) {
			return fmt.Errorf("%w: RestoreTime %s is in a gap of %s (%s to %s: %s): changes then may be missing", vocab.ErrInvalidParameter,
				t.UTC().Format(time.RFC3339Nano), rp.ARN, g.From.UTC().Format(time.RFC3339Nano), g.To.UTC().Format(time.RFC3339Nano), g.Reason)
		}
	}
	return nil
}

// continuousStream is the state of continuous recovery point rp at the
// request's RestoreTime (checked again: the window may have moved since
// Start) as a record stream: the capture log's plan at that time, which
// capturelog.WriteStateAt writes into a pipe the restore engine reads.
func continuousStream(ctx context.Context, vv *vault.Vault, rp catalog.RecoveryPoint, md map[string]string) (restore.Stream, error) {
	t, err := restoreTime(md, rp)
	if err != nil {
		return restore.Stream{}, err
	}
	if err := checkGaps(ctx, vv, rp, t); err != nil {
		return restore.Stream{}, err
	}
	plan, err := capturelog.PlanAt(ctx, vv, rp.ID, t)
	if err != nil {
		return restore.Stream{}, err
	}
	bucket, _ := vocab.ParseBucketARN(rp.ResourceARN)
	return restore.Stream{Name: rp.ARN, Bucket: bucket, Open: func(ctx context.Context) (io.ReadCloser, error) {
		pr, pw := io.Pipe()
		go func() {
			_, err := capturelog.WriteStateAt(ctx, vv, plan, pw)
			pw.CloseWithError(err) //nolint:errcheck // always nil
		}()
		return pr, nil // closing it early unblocks the producer
	}}, nil
}
