package maintenance

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/jobqueue"
	"github.com/cofferbackup/coffer/internal/jobs"
	"github.com/cofferbackup/coffer/internal/vaultmaint"
	"github.com/cofferbackup/coffer/internal/vaults"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// handle is River's handler for maintenance jobs. It is idempotent: a job
// no longer CREATED, or taken over (its run changed), is left alone. It
// takes the vault's exclusive lease without waiting while jobs hold the
// vault (the job stays CREATED, saying so, and is snoozed) until it has
// tried maintenanceTries times; then it waits for the lease for at most
// maintenanceWait.
func (mt *Maintenance) handle(ctx context.Context, id string, run int) error {
	j, found, answer := jobs.Pick(ctx, mt.cfg.Core, kind, id, mt.cfg.Jobs.MaintenanceJob)
	if !found {
		return answer
	}
	if j.State != jobs.StateCreated || j.Run != run {
		mt.forgetTries(id)
		return nil
	}
	jctx, done := mt.cfg.Core.Context(ctx, id)
	defer done()
	bg := context.WithoutCancel(ctx)
	lease, err := mt.lease(jctx, bg, j)
	switch {
	case errors.Is(err, errVaultBusy):
		return jobqueue.Snooze(maintenanceRetry)
	case err != nil && jctx.Err() != nil:
		return jobs.QueuedInterrupted(jctx)
	case errors.Is(err, vocab.ErrNotFound):
		mt.endMaintenance(bg, j, jobs.StateCompleted, "nothing to maintain: "+err.Error())
		return nil
	case err != nil:
		mt.endMaintenance(bg, j, jobs.StateFailed, err.Error())
		return nil
	}
	defer lease.Release()
	claimed := j
	claimed.State, claimed.StatusMessage, claimed.StartedAt, claimed.Owner = jobs.StateRunning, "", mt.cfg.Clock.Now(), mt.cfg.Core.ProcID()
	ok, err := mt.cfg.Jobs.ClaimMaintenanceJob(bg, claimed)
	switch {
	case errors.Is(err, catalog.ErrExists): // another process maintains the vault
		mt.noteWaiting(bg, j, fmt.Sprintf("waiting for another maintenance job of backup vault %q to finish", j.VaultName))
		return jobqueue.Snooze(maintenanceRetry)
	case err != nil:
		mt.cfg.Log.Error("start maintenance job", "job", id, "err", err)
		return jobqueue.Snooze(jobs.CatalogRetry)
	case !ok:
		// Stopped meanwhile, or jobs of the vault run in other processes
		// (this process's lease cannot see them): wait in the queue.
		if cur, err := mt.cfg.Jobs.MaintenanceJob(bg, id); err == nil && cur.State == jobs.StateCreated && cur.Run == run {
			mt.noteWaiting(bg, j, fmt.Sprintf("waiting for running jobs of backup vault %q to finish", j.VaultName))
			return jobqueue.Snooze(maintenanceRetry)
		}
		return nil
	}
	return mt.runMaintenance(jctx, claimed, lease)
}

// lease takes job j's vault exclusively (see handle):
// errVaultBusy when the job must wait in the queue. bg records the wait.
func (mt *Maintenance) lease(ctx, bg context.Context, j jobstore.MaintenanceJob) (*vaults.Lease, error) {
	v, err := mt.cfg.Vaults.Vault(ctx, j.VaultName)
	if err != nil {
		return nil, err
	}
	l, err := mt.cfg.Vaults.Lease(ctx, v, vaults.Exclusive, purpose, false)
	busy := (*vaults.BusyError)(nil)
	if !errors.As(err, &busy) {
		mt.forgetTries(j.ID)
		return l, err
	}
	mt.noteWaiting(bg, j, fmt.Sprintf("waiting for %s of backup vault %q to finish", busy.Holder, j.VaultName))
	if mt.countTry(j.ID) < maintenanceTries {
		return nil, errVaultBusy
	}
	mt.forgetTries(j.ID)
	wctx, cancel := context.WithTimeout(ctx, maintenanceWait)
	defer cancel()
	l, err = mt.cfg.Vaults.Lease(wctx, v, vaults.Exclusive, purpose, true)
	if err != nil && ctx.Err() == nil && wctx.Err() != nil {
		return nil, errVaultBusy // waited long enough: try again later
	}
	return l, err
}

// noteWaiting sets a queued job's StatusMessage to why it waits, unless
// the job moved on (stopped, or taken over: its run changed).
func (mt *Maintenance) noteWaiting(ctx context.Context, j jobstore.MaintenanceJob, why string) {
	if j.StatusMessage == why {
		return
	}
	cur, err := mt.cfg.Jobs.MaintenanceJob(ctx, j.ID)
	if err != nil || cur.State != jobs.StateCreated || cur.Run != j.Run || cur.StatusMessage == why {
		return
	}
	cur.StatusMessage = why
	if _, err := mt.cfg.Jobs.TransitionMaintenanceJob(ctx, cur, jobs.StateCreated); err != nil {
		mt.cfg.Log.Warn("record maintenance job waiting", "job", j.ID, "err", err)
	}
}

// countTry counts one more busy try of job id and returns the count.
func (mt *Maintenance) countTry(id string) int {
	mt.mu.Lock()
	defer mt.mu.Unlock()
	mt.tries[id]++
	return mt.tries[id]
}

func (mt *Maintenance) forgetTries(id string) {
	mt.mu.Lock()
	delete(mt.tries, id)
	mt.mu.Unlock()
}

// runMaintenance runs a claimed (RUNNING) job on the vault whose exclusive
// lease l the caller holds, and records how it ended. One interrupted
// because coffer is stopping goes back to the queue and runs again after
// the restart: maintenance is idempotent.
func (mt *Maintenance) runMaintenance(ctx context.Context, j jobstore.MaintenanceJob, l *vaults.Lease) error {
	bg := context.WithoutCancel(ctx)
	st, err := mt.maintainHeld(ctx, j.VaultName, l)
	cause := context.Cause(ctx)
	from := j.State
	j.Stats, j.CompletedAt = jobs.JSON(st), mt.cfg.Clock.Now()
	switch {
	case err == nil:
		j.State, j.StatusMessage = jobs.StateCompleted, maintenanceMessage(st)
	case errors.Is(cause, jobs.ErrShutdown):
		next := j
		next.State, next.StatusMessage, next.CompletedAt, next.StartedAt, next.Owner = jobs.StateCreated,
			"coffer stopped while the job was running; it runs again when coffer is back", time.Time{}, time.Time{}, ""
		ok, rerr := mt.cfg.Jobs.TransitionMaintenanceJob(bg, next, from)
		if ok {
			return jobqueue.Snooze(jobs.ShutdownRetry)
		}
		if rerr != nil && !errors.Is(rerr, catalog.ErrExists) {
			mt.cfg.Log.Error("requeue interrupted maintenance job", "job", j.ID, "err", rerr)
		}
		// Another job of the vault is queued: it does the work.
		j.State, j.StatusMessage = jobs.StateAborted, "coffer stopped while the job was running; the maintenance job queued for this vault reclaims the rest"
	case errors.Is(cause, jobs.ErrStopped) || jobqueue.IsCancelled(ctx):
		j.State, j.StatusMessage = jobs.StateAborted, "stopped by StopMaintenanceJob; the next maintenance of the vault reclaims what this run did not"
	default:
		j.State, j.StatusMessage = jobs.StateFailed, err.Error()
	}
	j.StatusMessage = jobs.RunNote(j.Run) + j.StatusMessage
	if _, err := mt.cfg.Jobs.TransitionMaintenanceJob(bg, j, from); err != nil {
		mt.cfg.Log.Error("record maintenance job end", "job", j.ID, "err", err)
	}
	mt.cfg.Log.Info("maintenance job ended", "job", j.ID, "vault", j.VaultName, "state", j.State, "message", j.StatusMessage)
	return nil
}

func maintenanceMessage(st vaultmaint.Stats) string {
	freed := fmt.Sprintf("freed %d bytes", st.FreedBytes)
	if st.FreedBytes <= 0 {
		// The run's own index writes can outweigh what it dropped; data
		// kept by the safety margins goes in a later run.
		freed = "freed no space yet"
	}
	return fmt.Sprintf("%d live recovery points; deleted %d unreferenced contents, %s", st.LiveRecoveryPoints, st.DeletedContents, freed)
}

// MaintainVault reclaims the space of deleted recovery points now, in the
// caller's goroutine and outside the job queue (tests and tools; coffer
// itself queues maintenance jobs). It takes the vault's lease
// exclusively: it waits (bounded by ctx) for a moment when no job uses the
// vault, without holding off jobs that start meanwhile; while it runs,
// jobs of the vault wait in the queue.
func (mt *Maintenance) MaintainVault(ctx context.Context, name string) (vaultmaint.Stats, error) {
	v, err := mt.cfg.Vaults.Vault(ctx, name)
	if err != nil {
		return vaultmaint.Stats{}, err
	}
	l, err := mt.cfg.Vaults.Lease(ctx, v, vaults.Exclusive, purpose, true)
	if err != nil {
		return vaultmaint.Stats{}, err
	}
	defer l.Release()
	return mt.maintainHeld(ctx, name, l)
}

// maintainHeld maintains the vault whose exclusive lease l the caller
// holds.
func (mt *Maintenance) maintainHeld(ctx context.Context, name string, l *vaults.Lease) (vaultmaint.Stats, error) {
	if mt.cfg.Held != nil {
		mt.cfg.Held(ctx, name)
	}
	if err := ctx.Err(); err != nil {
		return vaultmaint.Stats{}, fmt.Errorf("maintain vault %q: %w", name, err) // stopped before the sweep began
	}
	var cerr error
	if mt.cfg.Compact != nil {
		// A failed compaction leaves the vault consistent: maintain it
		// anyway, and report the failure.
		if cerr = mt.cfg.Compact(ctx, name, l.Vault()); cerr != nil {
			mt.cfg.Log.Error("compact vault", "vault", name, "err", cerr)
		}
	}
	st, err := vaultmaint.Maintain(ctx, l.Vault())
	if err != nil {
		return st, fmt.Errorf("maintain vault %q: %w", name, err)
	}
	if cerr != nil {
		return st, fmt.Errorf("maintain vault %q: maintained, but %w", name, cerr)
	}
	mt.cfg.Log.Info("vault maintained", "vault", name, "live_recovery_points", st.LiveRecoveryPoints,
		"deleted_contents", st.DeletedContents, "freed_bytes", st.FreedBytes)
	return st, nil
}
