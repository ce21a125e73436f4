package capture

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cofferbackup/coffer/internal/backup"
	"github.com/cofferbackup/coffer/internal/capturelog"
	"github.com/cofferbackup/coffer/internal/catalog/capturestore"
	"github.com/cofferbackup/coffer/internal/jobs"
	"github.com/cofferbackup/coffer/internal/s3source"
	"github.com/cofferbackup/coffer/internal/vault"
)

// failRetry is the longest wait before a failed scan runs again.
const failRetry = time.Minute

// rpOf is the recovery point ARN of a capture job id (ARN#seq).
func rpOf(id string) string {
	if i := strings.LastIndexByte(id, '#'); i > 0 {
		return id[:i]
	}
	return id
}

// handle is River's handler for capture jobs: it runs the job recorded
// on its protection (a stale River job is ignored), then forgets it, so
// that the next one can be queued.
func (c *Captures) handle(ctx context.Context, id string, _ int) error {
	p, found, answer := jobs.Pick(ctx, c.cfg.Core, kind, rpOf(id), c.cfg.Captures.Protection)
	if !found {
		return answer
	}
	if p.JobID != id {
		return nil
	}
	jctx, done := c.cfg.Core.Context(ctx, id)
	defer done()
	bg := context.WithoutCancel(ctx)
	defer func() {
		if _, err := c.cfg.Captures.ClearCapture(bg, p.RPARN, id); err != nil {
			c.cfg.Log.Error("clear capture job", "rp", p.RPARN, "job", id, "err", err)
			return
		}
		// Events that arrived meanwhile are captured now, not at the poll.
		if _, err := c.EventsArrived(bg); err != nil && !c.cfg.Core.Stopping() {
			c.cfg.Log.Warn("queue capture of events", "err", err)
		}
	}()
	err := c.cfg.Vaults.WithVault(jctx, p.VaultName, func(v *vault.Vault) error {
		src, err := c.cfg.Source(jctx, p.Connection)
		if err != nil {
			return err
		}
		if p.JobMode == ModeScan {
			return c.scan(jctx, &p, v, src)
		}
		return c.events(jctx, &p, v, src)
	})
	if err == nil {
		return nil
	}
	if jctx.Err() != nil {
		// Stopping or stopped: nothing was committed past what is
		// recorded; the leader queues the next job.
		return nil
	}
	c.failed(bg, &p, err)
	return nil
}

// failed records a capture job that failed: counted, and a scan is
// retried soon. Covered time does not move. Credentials refused, or
// failures for longer than the stall threshold, stop the protection
// (health): a successful scan heals it, recording the gap.
func (c *Captures) failed(ctx context.Context, p *capturestore.Protection, err error) {
	c.cfg.Log.Error("capture job failed", "rp", p.RPARN, "mode", p.JobMode, "err", err)
	cur, rerr := c.cfg.Captures.Protection(ctx, p.RPARN)
	if rerr != nil {
		return
	}
	cur.Failures++
	cur.LastError = err.Error()
	if why := c.unhealthy(&cur, err); why != "" && cur.State != StateStopped {
		cur.State, cur.StatusMessage = StateStopped, why
		c.cfg.Log.Warn("continuous protection stopped", "rp", p.RPARN, "reason", why)
	}
	if retry := c.cfg.Clock.Now().Add(min(failRetry, c.cfg.ReconcileInterval)); cur.NextScanAt.After(retry) || p.JobMode == ModeScan {
		cur.NextScanAt = retry
	}
	if serr := c.saveCatalog(ctx, &cur, nil); serr != nil {
		c.cfg.Log.Error("record capture failure", "rp", p.RPARN, "err", serr)
	}
}

// commit writes st (and the segments already in w) and commits w, then
// stores the protection and the recovery point's window in the catalog:
// the vault first, so that the catalog never shows more than it holds.
func (c *Captures) commit(ctx context.Context, w *vault.Writer, p *capturestore.Protection, st *capturelog.State) error {
	if err := capturelog.PutState(ctx, w, *st); err != nil {
		return err
	}
	if err := w.Commit(ctx); err != nil {
		return fmt.Errorf("commit capture: %w", err)
	}
	cur, err := c.cfg.Captures.Protection(ctx, p.RPARN)
	if err != nil {
		return err
	}
	// The catalog keeps what changed meanwhile (a stop by the leader).
	if !ruleStopped(&cur) {
		cur.State, cur.StatusMessage = st.Status, st.StatusMessage
	}
	cur.LastScanStart, cur.CoveredAt = st.LastScanStart, st.Covered
	cur.NextScanAt = p.NextScanAt
	cur.Failures, cur.LastError = p.Failures, p.LastError
	*p = cur
	return c.saveCatalog(ctx, p, &windowCounts{earliest: c.earliest(st), size: st.Bytes, objects: st.Versions})
}

// earliest is EarliestRestorableTime: the initial capture's start, or the
// window's start by retention, or the log's start after retention, if
// later.
func (c *Captures) earliest(st *capturelog.State) time.Time {
	e := st.Start
	if st.Compacted.After(e) {
		e = st.Compacted
	}
	if st.DeleteAfterDays > 0 {
		if r := c.cfg.Clock.Now().Add(-time.Duration(st.DeleteAfterDays) * 24 * time.Hour); r.After(e) {
			e = r
		}
	}
	if !st.Covered.IsZero() && e.After(st.Covered) {
		e = st.Covered
	}
	return e
}

// loadState reads the protection's state from its vault, or starts one.
func (c *Captures) loadState(ctx context.Context, p *capturestore.Protection, v *vault.Vault, endpoint string) (capturelog.State, error) {
	st, found, err := capturelog.LoadState(ctx, v, p.RPID)
	if err != nil {
		return st, err
	}
	if !found {
		st = capturelog.State{RP: p.RPID, ARN: p.RPARN, VaultName: p.VaultName, ResourceARN: p.ResourceARN,
			Connection: p.Connection, Bucket: p.Bucket, Endpoint: endpoint, CreatedAt: p.CreatedAt, Status: StateCreating}
	}
	st.PlanID, st.RuleID, st.Options, st.DeleteAfterDays = p.PlanID, p.RuleID, p.Options, p.DeleteAfterDays
	return st, nil
}

func (c *Captures) captureOptions(p *capturestore.Protection) backup.CaptureOptions {
	return backup.CaptureOptions{Bucket: p.Bucket, Parallelism: c.cfg.Parallelism,
		BackupACLs: p.Options["BackupACLs"] != "disabled", BackupTags: p.Options["BackupObjectTags"] != "disabled"}
}

// unhealthy says why failing capture stops a protection, or "".
func (c *Captures) unhealthy(p *capturestore.Protection, err error) string {
	if errors.Is(err, s3source.ErrAccessDenied) {
		return "the endpoint refuses coffer's credentials: " + err.Error()
	}
	since := p.CoveredAt
	if since.IsZero() {
		since = p.CreatedAt
	}
	if c.cfg.Clock.Now().Sub(since) > c.cfg.Stall {
		return fmt.Sprintf("capture has failed since %s (the endpoint may be unreachable): %v", since.UTC().Format(time.RFC3339), err)
	}
	return ""
}
