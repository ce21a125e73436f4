package copyjob

import (
	"context"

	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/jobqueue"
	"github.com/cofferbackup/coffer/internal/jobs"
)

// handle is River's handler for copy jobs. It is idempotent: a job no
// longer CREATED, or taken over (its run changed), is left alone. A copy
// whose destination (or source) vault maintenance or deletion holds stays
// CREATED, saying so, and is snoozed.
func (c *Copies) handle(ctx context.Context, id string, run int) error {
	j, found, answer := jobs.Pick(ctx, c.cfg.Core, kind, id, c.cfg.Jobs.CopyJob)
	if !found {
		return answer
	}
	if j.State != jobs.StateCreated || j.Run != run {
		return nil
	}
	jctx, done := c.cfg.Core.Context(ctx, id)
	defer done()
	bg := context.WithoutCancel(ctx)
	lease, waitFor, err := c.cfg.Vaults.JobLease(jctx, j.DestinationVaultName)
	switch {
	case waitFor != "":
		c.waiting(bg, j, waitFor)
		return jobqueue.Snooze(jobs.BusyRetry)
	case err != nil && jctx.Err() != nil:
		return jobs.QueuedInterrupted(jctx)
	case err != nil:
		j.State, j.StatusMessage, j.CompletedAt = jobs.StateFailed, err.Error(), c.cfg.Clock.Now()
		if _, err := c.cfg.Jobs.TransitionCopyJob(bg, j, jobs.StateCreated); err != nil {
			c.cfg.Log.Error("record copy end", "job", id, "err", err)
		}
		return nil
	}
	defer lease.Release()
	claimed := j
	claimed.State, claimed.StatusMessage, claimed.StartedAt, claimed.Owner = jobs.StateRunning, "", c.cfg.Clock.Now(), c.cfg.Core.ProcID()
	ok, err := c.cfg.Jobs.ClaimCopyJob(bg, claimed)
	if err != nil {
		c.cfg.Log.Error("start copy job", "job", id, "err", err)
		return jobqueue.Snooze(jobs.CatalogRetry)
	}
	if !ok {
		// Maintenance of one of its vaults runs in another process: wait
		// in the queue, saying so.
		if cur, err := c.cfg.Jobs.CopyJob(bg, id); err == nil && cur.State == jobs.StateCreated && cur.Run == run {
			c.waiting(bg, cur, "waiting for the maintenance of backup vault "+j.SourceVaultName+" or "+j.DestinationVaultName+" to finish")
			return jobqueue.Snooze(jobs.BusyRetry)
		}
		return nil
	}
	return c.run(jctx, &claimed, lease.Vault())
}

// waiting records why a queued job waits, once.
func (c *Copies) waiting(ctx context.Context, j jobstore.CopyJob, why string) {
	if j.StatusMessage == why {
		return
	}
	j.StatusMessage = why
	if _, err := c.cfg.Jobs.TransitionCopyJob(ctx, j, j.State); err != nil {
		c.cfg.Log.Warn("record copy waiting", "job", j.ID, "err", err)
	}
}
