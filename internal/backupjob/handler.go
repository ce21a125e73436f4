package backupjob

import (
	"context"

	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/jobqueue"
	"github.com/cofferbackup/coffer/internal/jobs"
)

// handle is River's handler for backup jobs. It is idempotent: a job
// no longer CREATED or PENDING (finished, stopped, expired, settled by
// recovery) is left alone. It returns nil once the job's end is recorded,
// and a snooze while the job must wait: for its bucket (another backup of
// it runs) or its vault (maintenance or deletion holds it). A waiting job
// holds no worker, so a stop, its start window or a shutdown reaches it.
func (b *Backups) handle(ctx context.Context, id string, run int) error {
	j, found, answer := jobs.Pick(ctx, b.cfg.Core, kind, id, b.cfg.Jobs.BackupJob)
	if !found {
		return answer
	}
	if j.State != jobs.StateCreated && j.State != jobs.StatePending || j.Run != run {
		return nil // settled, or taken over: a newer River job runs it
	}
	jctx, done := b.cfg.Core.Context(ctx, id)
	defer done()
	bg := context.WithoutCancel(ctx) // records the end of a cancelled job
	if !j.StartBy.IsZero() && b.cfg.Clock.Now().After(j.StartBy) {
		b.endQueued(bg, j, jobs.StateExpired, "the job did not start within its start window")
		return nil
	}
	// The vault's lease first: a job can go back to PENDING until it is
	// claimed, not after.
	lease, waitFor, err := b.cfg.Vaults.JobLease(jctx, j.VaultName)
	switch {
	case waitFor != "":
		return b.waitForResource(bg, j, waitFor)
	case err != nil && jctx.Err() != nil:
		return jobs.QueuedInterrupted(jctx)
	case err != nil:
		b.endQueued(bg, j, jobs.StateFailed, err.Error())
		return nil
	}
	defer lease.Release()
	claimed, err := b.claim(bg, &j)
	if err != nil {
		b.cfg.Log.Error("start backup job", "job", id, "err", err)
		return jobqueue.Snooze(jobs.CatalogRetry)
	}
	if !claimed {
		why := "waiting for another backup of this bucket to finish"
		if busy, err := b.cfg.Jobs.MaintenanceRunning(bg, j.VaultName); err == nil && busy {
			why = jobs.MaintenanceWaitNote(j.VaultName) // in another process
		}
		return b.waitForResource(bg, j, why)
	}
	return b.run(jctx, &j, lease.Vault())
}

// claim moves the job to RUNNING unless another backup of its bucket
// is running (anywhere: the check is in the catalog).
func (b *Backups) claim(ctx context.Context, j *jobstore.BackupJob) (bool, error) {
	run := *j
	run.State, run.StartedAt, run.StatusMessage, run.Owner = jobs.StateRunning, b.cfg.Clock.Now(), "", b.cfg.Core.ProcID()
	ok, err := b.cfg.Jobs.ClaimBackupJob(ctx, run, []string{jobs.StateCreated, jobs.StatePending}, []string{jobs.StateRunning, jobs.StateAborting})
	if ok {
		*j = run
	}
	return ok, err
}

// waitForResource handles a job that could not start: it marks it PENDING
// with waitFor as its message and snoozes it, unless its state changed
// meanwhile.
func (b *Backups) waitForResource(ctx context.Context, j jobstore.BackupJob, waitFor string) error {
	cur, err := b.cfg.Jobs.BackupJob(ctx, j.ID)
	if err != nil {
		return jobqueue.Snooze(jobs.CatalogRetry)
	}
	if cur.State != jobs.StateCreated && cur.State != jobs.StatePending {
		return nil // stopped or expired meanwhile
	}
	if cur.State != jobs.StatePending || cur.StatusMessage != waitFor {
		from := cur.State
		cur.State, cur.StatusMessage = jobs.StatePending, waitFor
		if _, err := b.cfg.Jobs.TransitionBackupJob(ctx, cur, from); err != nil {
			b.cfg.Log.Warn("mark job pending", "job", j.ID, "err", err)
		}
	}
	return jobqueue.Snooze(jobs.BusyRetry)
}

// endQueued ends a job that never ran, unless its state changed.
func (b *Backups) endQueued(ctx context.Context, j jobstore.BackupJob, state, msg string) bool {
	j.State, j.StatusMessage, j.CompletedAt = state, msg, b.cfg.Clock.Now()
	ok, err := b.cfg.Jobs.TransitionBackupJob(ctx, j, jobs.StateCreated, jobs.StatePending)
	if err != nil {
		b.cfg.Log.Error("record job end", "job", j.ID, "err", err)
	}
	if ok {
		b.cfg.Log.Info("backup job ended", "job", j.ID, "state", state, "message", msg)
	}
	return ok
}
