package restorejob

import (
	"context"
	"fmt"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/jobs"
)

// TakeOver takes over the restore jobs of dead processes (a jobs.Taker):
// a running restore is queued again with its run raised and resumes what
// the earlier run wrote.
func (r *Restores) TakeOver(ctx context.Context, dead jobs.DeadFunc) (int, error) {
	return jobs.EachOldest(ctx, "restore", func(p catalog.Page) ([]jobstore.RestoreJob, string, error) {
		return r.cfg.Jobs.ListRestoreJobs(ctx, jobstore.RestoreJobFilter{Statuses: []string{jobs.StatePending, jobs.StateRunning}}, p)
	}, func(j jobstore.RestoreJob) string { return j.ID }, func(j jobstore.RestoreJob) (bool, error) {
		return r.takeOverJob(ctx, j, dead)
	})
}

func (r *Restores) takeOverJob(ctx context.Context, j jobstore.RestoreJob, dead jobs.DeadFunc) (bool, error) {
	if j.Status == jobs.StatePending {
		return r.cfg.Core.RescueQueued(ctx, kind, j.ID, j.Run, dead, func(msg string, then catalog.TxFunc) (bool, error) {
			next := j
			next.Run++
			if then == nil {
				next.Status, next.CompletedAt = jobs.StateFailed, r.cfg.Clock.Now()
			}
			next.StatusMessage = msg
			return r.cfg.Jobs.TransitionRestoreJobTx(ctx, next, then, jobs.StatePending)
		})
	}
	gone, err := dead(ctx, j.Owner, j.ID)
	if err != nil || !gone {
		return false, err
	}
	note := r.cfg.Core.OwnerNote(j.Owner)
	var then catalog.TxFunc
	if j.Run+1 >= jobs.MaxRuns {
		j.Status, j.CompletedAt = jobs.StateFailed, r.cfg.Clock.Now()
		j.StatusMessage = fmt.Sprintf("%s; the restore was taken over %d times and is given up; objects restored so far remain", note, j.Run)
	} else {
		j.Run++
		j.Status, j.Owner = jobs.StatePending, ""
		j.StatusMessage = fmt.Sprintf("taken over: %s; resuming (run %d)", note, j.Run+1)
		then = r.cfg.Core.Enqueue(ctx, kind, j.ID, j.Run)
	}
	ok, err := r.cfg.Jobs.TransitionRestoreJobTx(ctx, j, then, jobs.StateRunning)
	if ok {
		r.cfg.Log.Warn("restore job of a dead process taken over", "job", j.ID, "status", j.Status)
	}
	return ok, err
}
