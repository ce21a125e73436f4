package copyjob

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/jobs"
	"github.com/cofferbackup/coffer/internal/vaults"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// TakeOver takes over the copy jobs of dead processes (a jobs.Taker): a
// running copy is queued again with its run raised (it runs from the
// start), unless its recovery point made it into the destination vault
// (then it completed).
func (c *Copies) TakeOver(ctx context.Context, dead jobs.DeadFunc) (int, error) {
	return jobs.EachOldest(ctx, "copy", func(p catalog.Page) ([]jobstore.CopyJob, string, error) {
		return c.cfg.Jobs.ListCopyJobs(ctx, jobstore.CopyJobFilter{States: []string{jobs.StateCreated, jobs.StateRunning}}, p)
	}, func(j jobstore.CopyJob) string { return j.ID }, func(j jobstore.CopyJob) (bool, error) {
		return c.takeOverJob(ctx, j, dead)
	})
}

func (c *Copies) takeOverJob(ctx context.Context, j jobstore.CopyJob, dead jobs.DeadFunc) (bool, error) {
	if j.State == jobs.StateCreated {
		return c.cfg.Core.RescueQueued(ctx, kind, j.ID, j.Run, dead, func(msg string, then catalog.TxFunc) (bool, error) {
			next := j
			next.Run++
			if then == nil {
				next.State, next.CompletedAt = jobs.StateFailed, c.cfg.Clock.Now()
			}
			next.StatusMessage = msg
			return c.cfg.Jobs.TransitionCopyJobTx(ctx, next, then, j.State)
		})
	}
	gone, err := dead(ctx, j.Owner, j.ID)
	if err != nil || !gone {
		return false, err
	}
	note := c.cfg.Core.OwnerNote(j.Owner)
	done, err := c.committed(ctx, j)
	if busy := (*vaults.BusyError)(nil); errors.As(err, &busy) {
		return false, nil // maintenance holds the vault: the next pass looks again
	}
	if err != nil {
		return false, err
	}
	var then catalog.TxFunc
	switch {
	case done:
		j.State, j.StatusMessage, j.CompletedAt = jobs.StateCompleted, "completed; "+note+" before the job was recorded as done", c.cfg.Clock.Now()
	case j.Run+1 >= jobs.MaxRuns:
		j.State, j.StatusMessage, j.CompletedAt = jobs.StateFailed, fmt.Sprintf("%s; the job was taken over %d times and is given up; start the copy again", note, j.Run), c.cfg.Clock.Now()
	default:
		j.Run++
		j.State, j.Owner, j.StartedAt, j.BytesTransferred, j.Stats = jobs.StateCreated, "", time.Time{}, 0, "{}"
		j.StatusMessage = fmt.Sprintf("taken over: %s; running again from the start (run %d)", note, j.Run+1)
		then = c.cfg.Core.Enqueue(ctx, kind, j.ID, j.Run)
	}
	ok, err := c.cfg.Jobs.TransitionCopyJobTx(ctx, j, then, jobs.StateRunning)
	if ok {
		c.cfg.Log.Warn("copy job of a dead process taken over", "job", j.ID, "state", j.State)
	}
	return ok, err
}

// committed reports whether job j's recovery point was committed to the
// destination vault; one only in the vault (its process died before the
// catalog recorded it) is recorded now.
func (c *Copies) committed(ctx context.Context, j jobstore.CopyJob) (bool, error) {
	_, err := c.cfg.DB.RecoveryPointByARN(ctx, j.DestinationRecoveryPointARN)
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, catalog.ErrNotFound) {
		return false, err
	}
	id := j.DestinationRecoveryPointARN[strings.LastIndex(j.DestinationRecoveryPointARN, ":")+1:]
	m, found, err := c.cfg.Vaults.Committed(ctx, j.DestinationVaultName, id)
	if errors.Is(err, vocab.ErrNotFound) {
		return false, nil // the vault is gone
	}
	if err != nil || !found {
		return false, err
	}
	return true, c.cfg.Vaults.RegisterRecoveryPoint(ctx, m)
}
