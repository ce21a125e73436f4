package restorejob

import (
	"context"

	"github.com/cofferbackup/coffer/internal/jobqueue"
	"github.com/cofferbackup/coffer/internal/jobs"
)

// handle is River's handler for restore jobs. It is idempotent: a job no
// longer PENDING, or taken over (its run changed), is left alone. A
// restore whose vault maintenance or deletion holds stays PENDING, saying
// so, and is snoozed.
func (r *Restores) handle(ctx context.Context, id string, run int) error {
	j, found, answer := jobs.Pick(ctx, r.cfg.Core, kind, id, r.cfg.Jobs.RestoreJob)
	if !found {
		return answer
	}
	if j.Status != jobs.StatePending || j.Run != run {
		return nil
	}
	jctx, done := r.cfg.Core.Context(ctx, id)
	defer done()
	bg := context.WithoutCancel(ctx)
	lease, waitFor, err := r.cfg.Vaults.JobLease(jctx, j.VaultName)
	switch {
	case waitFor != "":
		if j.StatusMessage != waitFor {
			j.StatusMessage = waitFor
			if _, err := r.cfg.Jobs.TransitionRestoreJob(bg, j, jobs.StatePending); err != nil {
				r.cfg.Log.Warn("record restore waiting", "job", id, "err", err)
			}
		}
		return jobqueue.Snooze(jobs.BusyRetry)
	case err != nil && jctx.Err() != nil:
		return jobs.QueuedInterrupted(jctx)
	case err != nil:
		j.Status, j.StatusMessage, j.CompletedAt = jobs.StateFailed, err.Error(), r.cfg.Clock.Now()
		if _, err := r.cfg.Jobs.TransitionRestoreJob(bg, j, jobs.StatePending); err != nil {
			r.cfg.Log.Error("record restore end", "job", id, "err", err)
		}
		return nil
	}
	defer lease.Release()
	queued := j
	j.Status, j.StatusMessage, j.Owner = jobs.StateRunning, "", r.cfg.Core.ProcID()
	ok, err := r.cfg.Jobs.ClaimRestoreJob(bg, j)
	if err != nil {
		r.cfg.Log.Error("start restore job", "job", id, "err", err)
		return jobqueue.Snooze(jobs.CatalogRetry)
	}
	if !ok {
		// Stopped meanwhile, or maintenance of the vault runs in another
		// process: then wait in the queue, saying so.
		if cur, err := r.cfg.Jobs.RestoreJob(bg, id); err == nil && cur.Status == jobs.StatePending && cur.Run == run {
			if why := jobs.MaintenanceWaitNote(j.VaultName); cur.StatusMessage != why {
				queued.StatusMessage = why
				_, _ = r.cfg.Jobs.TransitionRestoreJob(bg, queued, jobs.StatePending)
			}
			return jobqueue.Snooze(jobs.BusyRetry)
		}
		return nil
	}
	return r.run(jctx, &j, lease.Vault())
}
