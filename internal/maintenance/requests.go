package maintenance

import (
	"context"
	"errors"
	"fmt"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/jobs"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// Request records a maintenance job of a vault and queues it in
// the same transaction, unless one is queued already: that one is
// returned (it has not started, so it reclaims what was deleted so far).
func (mt *Maintenance) Request(ctx context.Context, vaultName, trigger string) (jobstore.MaintenanceJob, error) {
	v, err := mt.cfg.Vaults.Vault(ctx, vaultName)
	if err != nil {
		return jobstore.MaintenanceJob{}, err
	}
	for range 5 {
		j := jobstore.MaintenanceJob{ID: vocab.NewID(), VaultName: v.Name, VaultARN: v.ARN, State: jobs.StateCreated, Trigger: trigger, CreatedAt: mt.cfg.Clock.Now()}
		err := mt.cfg.Jobs.InsertMaintenanceJob(ctx, j, mt.cfg.Core.Enqueue(ctx, kind, j.ID, 0))
		if err == nil {
			mt.cfg.Log.Info("maintenance job created", "job", j.ID, "vault", v.Name, "trigger", trigger)
			return j, nil
		}
		if !errors.Is(err, catalog.ErrExists) {
			return jobstore.MaintenanceJob{}, err
		}
		queued, _, err := mt.cfg.Jobs.ListMaintenanceJobs(ctx, jobstore.MaintenanceJobFilter{VaultName: v.Name, State: jobs.StateCreated}, catalog.Page{Max: 1})
		if err != nil {
			return jobstore.MaintenanceJob{}, err
		}
		if len(queued) == 1 {
			return queued[0], nil
		}
		// The queued one was claimed between the insert and the read.
	}
	return jobstore.MaintenanceJob{}, fmt.Errorf("queue maintenance of backup vault %q: its maintenance jobs kept changing; try again", vaultName)
}

// Later queues maintenance of a vault after recovery points were
// deleted from it. The deletion stands whatever happens here: a failure is
// logged, and the next deletion, expiry or periodic pass queues it again.
func (mt *Maintenance) Later(ctx context.Context, name, trigger string) {
	if _, err := mt.Request(context.WithoutCancel(ctx), name, trigger); err != nil {
		mt.cfg.Log.Error("queue vault maintenance", "vault", name, "trigger", trigger, "err", err)
	}
}

// All queues maintenance of every vault: the leader's
// periodic pass. It returns how many jobs it queued or found queued.
func (mt *Maintenance) All(ctx context.Context) (int, error) {
	all, err := mt.cfg.DB.AllVaults(ctx)
	if err != nil {
		return 0, err
	}
	var errs []error
	n := 0
	for _, v := range all {
		if _, err := mt.Request(ctx, v.Name, TriggerPeriodic); err != nil && !errors.Is(err, vocab.ErrNotFound) {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// Job describes one maintenance job.
func (mt *Maintenance) Job(ctx context.Context, id string) (jobstore.MaintenanceJob, error) {
	j, err := mt.cfg.Jobs.MaintenanceJob(ctx, id)
	if errors.Is(err, catalog.ErrNotFound) {
		return j, fmt.Errorf("maintenance job %q: %w", id, vocab.ErrNotFound)
	}
	return j, err
}

// Stop stops a maintenance job that has not finished: a
// queued one ends ABORTED at once; a running one is cancelled wherever it
// runs and ends ABORTED (or COMPLETED if it was just done). What a stopped
// run did not reclaim, the next maintenance of the vault does.
func (mt *Maintenance) Stop(ctx context.Context, id string) error {
	for range 5 {
		j, err := mt.Job(ctx, id)
		if err != nil {
			return err
		}
		switch j.State {
		case jobs.StateCreated:
			if mt.endMaintenance(ctx, j, jobs.StateAborted, "stopped by StopMaintenanceJob before it started") {
				// It may be waiting for its vault on a worker, here or
				// in another process.
				mt.cfg.Core.CancelLocal(id, jobs.ErrStopped)
				mt.cfg.Core.CancelQueued(ctx, kind, id)
				mt.forgetTries(id)
				return nil
			}
		case jobs.StateRunning:
			mt.cfg.Core.Stop(ctx, kind, id, jobs.ErrStopped)
			return nil
		default:
			return fmt.Errorf("%w: maintenance job %s is %s and cannot be stopped", vocab.ErrInvalidRequest, id, j.State)
		}
	}
	return fmt.Errorf("%w: maintenance job %s kept changing state; try again", vocab.ErrInvalidRequest, id)
}

// endMaintenance ends a job that has not started, unless its state
// changed; it reports whether it did.
func (mt *Maintenance) endMaintenance(ctx context.Context, j jobstore.MaintenanceJob, state, msg string) bool {
	j.State, j.StatusMessage, j.CompletedAt = state, msg, mt.cfg.Clock.Now()
	ok, err := mt.cfg.Jobs.TransitionMaintenanceJob(ctx, j, jobs.StateCreated)
	if err != nil {
		mt.cfg.Log.Error("record maintenance job end", "job", j.ID, "err", err)
	}
	if ok {
		mt.cfg.Log.Info("maintenance job ended", "job", j.ID, "vault", j.VaultName, "state", state, "message", msg)
	}
	return ok
}
