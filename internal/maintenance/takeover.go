package maintenance

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/jobs"
)

// TakeOver takes over the maintenance jobs of dead processes (a
// jobs.Taker).
func (mt *Maintenance) TakeOver(ctx context.Context, dead jobs.DeadFunc) (int, error) {
	return jobs.EachOldest(ctx, "maintenance", func(p catalog.Page) ([]jobstore.MaintenanceJob, string, error) {
		return mt.cfg.Jobs.ListMaintenanceJobs(ctx, jobstore.MaintenanceJobFilter{States: []string{jobs.StateCreated, jobs.StateRunning}}, p)
	}, func(j jobstore.MaintenanceJob) string { return j.ID }, func(j jobstore.MaintenanceJob) (bool, error) {
		return mt.takeOverJob(ctx, j, dead)
	})
}

// takeOverJob queues a dead process's running maintenance job
// again: maintenance is idempotent, so it simply runs again. If another
// job of the vault is queued meanwhile, that one does the work and this
// one ends ABORTED.
func (mt *Maintenance) takeOverJob(ctx context.Context, j jobstore.MaintenanceJob, dead jobs.DeadFunc) (bool, error) {
	if j.State == jobs.StateCreated {
		return mt.cfg.Core.RescueQueued(ctx, kind, j.ID, j.Run, dead, func(msg string, then catalog.TxFunc) (bool, error) {
			next := j
			next.Run++
			if then == nil {
				next.State, next.CompletedAt = jobs.StateFailed, mt.cfg.Clock.Now()
			}
			next.StatusMessage = msg
			return mt.cfg.Jobs.TransitionMaintenanceJobTx(ctx, next, then, jobs.StateCreated)
		})
	}
	gone, err := dead(ctx, j.Owner, j.ID)
	if err != nil || !gone {
		return false, err
	}
	note := mt.cfg.Core.OwnerNote(j.Owner)
	next := j
	var then catalog.TxFunc
	if j.Run+1 >= jobs.MaxRuns {
		next.State, next.CompletedAt = jobs.StateFailed, mt.cfg.Clock.Now()
		next.StatusMessage = fmt.Sprintf("%s; the job was taken over %d times and is given up; start maintenance of the vault again", note, j.Run)
	} else {
		next.Run++
		next.State, next.Owner, next.StartedAt, next.Stats = jobs.StateCreated, "", time.Time{}, "{}"
		next.StatusMessage = fmt.Sprintf("taken over: %s; running again (run %d)", note, next.Run+1)
		then = mt.cfg.Core.Enqueue(ctx, kind, j.ID, next.Run)
	}
	ok, err := mt.cfg.Jobs.TransitionMaintenanceJobTx(ctx, next, then, jobs.StateRunning)
	if errors.Is(err, catalog.ErrExists) {
		next = j
		next.State, next.CompletedAt = jobs.StateAborted, mt.cfg.Clock.Now()
		next.StatusMessage = note + "; the maintenance job queued for this vault does the work"
		ok, err = mt.cfg.Jobs.TransitionMaintenanceJob(ctx, next, jobs.StateRunning)
	}
	if ok {
		mt.cfg.Log.Warn("maintenance job of a dead process taken over", "job", j.ID, "owner", j.Owner, "state", next.State)
	}
	return ok, err
}
