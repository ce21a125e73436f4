package verifyjob

import (
	"context"
	"fmt"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/jobs"
)

// TakeOver takes over the verification jobs of dead processes (a
// jobs.Taker): a running verification is queued again with its run raised
// (it checks again from the start; it wrote nothing), a queued one whose
// River job is lost gets a new one.
func (v *Verifications) TakeOver(ctx context.Context, dead jobs.DeadFunc) (int, error) {
	return jobs.EachOldest(ctx, "verification", func(p catalog.Page) ([]jobstore.VerificationJob, string, error) {
		return v.cfg.Jobs.ListVerificationJobs(ctx, jobstore.VerificationJobFilter{States: []string{jobs.StateCreated, jobs.StateRunning}}, p)
	}, func(j jobstore.VerificationJob) string { return j.ID }, func(j jobstore.VerificationJob) (bool, error) {
		return v.takeOverJob(ctx, j, dead)
	})
}

func (v *Verifications) takeOverJob(ctx context.Context, j jobstore.VerificationJob, dead jobs.DeadFunc) (bool, error) {
	if j.State == jobs.StateCreated {
		return v.cfg.Core.RescueQueued(ctx, kind, j.ID, j.Run, dead, func(msg string, then catalog.TxFunc) (bool, error) {
			next := j
			next.Run++
			if then == nil {
				next.State, next.CompletedAt = jobs.StateFailed, v.cfg.Clock.Now()
			}
			next.StatusMessage = msg
			return v.cfg.Jobs.TransitionVerificationJobTx(ctx, next, then, j.State)
		})
	}
	gone, err := dead(ctx, j.Owner, j.ID)
	if err != nil || !gone {
		return false, err
	}
	note := v.cfg.Core.OwnerNote(j.Owner)
	var then catalog.TxFunc
	if j.Run+1 >= jobs.MaxRuns {
		j.State, j.CompletedAt = jobs.StateFailed, v.cfg.Clock.Now()
		j.StatusMessage = fmt.Sprintf("%s; the job was taken over %d times and is given up; start the verification again", note, j.Run)
	} else {
		j.Run++
		j.State, j.Owner, j.StartedAt = jobs.StateCreated, "", time.Time{}
		j.StatusMessage = fmt.Sprintf("taken over: %s; running again from the start (run %d)", note, j.Run+1)
		then = v.cfg.Core.Enqueue(ctx, kind, j.ID, j.Run)
	}
	ok, err := v.cfg.Jobs.TransitionVerificationJobTx(ctx, j, then, jobs.StateRunning)
	if ok {
		v.cfg.Log.Warn("verification job of a dead process taken over", "job", j.ID, "state", j.State)
	}
	return ok, err
}
