package jobs

import (
	"context"
	"errors"
	"fmt"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/jobqueue"
)

// MaxRuns bounds the takeovers of one job: a job that kills every process
// that runs it must not go round for ever.
const MaxRuns = 3

// Taker takes over the jobs of one kind whose process died: a running job
// is queued again with its run raised, or ended if it cannot run again; a
// queued one whose River job is lost gets a new one (RescueQueued).
type Taker interface {
	TakeOver(ctx context.Context, dead DeadFunc) (int, error)
}

// TakeOver gives the jobs of dead processes, of every registered kind, to
// live ones, and returns how many jobs it moved.
func (c *Core) TakeOver(ctx context.Context, dead DeadFunc) (int, error) {
	n := 0
	for _, t := range c.takers {
		m, err := t.TakeOver(ctx, dead)
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// EachOldest runs take on every job of a listing, oldest first (listings
// are newest first), and counts those it moved.
func EachOldest[T any](ctx context.Context, what string, list func(catalog.Page) ([]T, string, error),
	id func(T) string, take func(T) (bool, error)) (int, error) {
	all, err := catalog.AllPages(list)
	if err != nil {
		return 0, err
	}
	n := 0
	for i := len(all) - 1; i >= 0; i-- {
		moved, err := take(all[i])
		if err != nil {
			return n, fmt.Errorf("take over %s job %s: %w", what, id(all[i]), err)
		}
		if moved {
			n++
		}
	}
	return n, nil
}

// Requeue moves a queued job of a kind on after its River job was lost:
// with then (which queues a new River job in the same transaction) it
// raises the job's run and records msg; with a nil then it fails the job
// with msg.
type Requeue func(msg string, then catalog.TxFunc) (bool, error)

// RescueQueued makes sure a queued job has a River job that will run it.
// A job without one (older catalogs, a cleaned row) is enqueued; one whose
// River job a dead process had picked up, or that River ended without
// running it, gets a new River job through requeue.
func (c *Core) RescueQueued(ctx context.Context, kind, id string, run int, dead DeadFunc, requeue Requeue) (bool, error) {
	info, err := c.queue.Lookup(ctx, kind, id)
	if errors.Is(err, jobqueue.ErrNotFound) {
		return false, c.queue.Enqueue(ctx, c.args(kind, id, run))
	}
	if err != nil {
		return false, err
	}
	switch info.State {
	case jobqueue.StateCompleted, jobqueue.StateCancelled, jobqueue.StateDiscarded:
		c.cfg.Log.Error("queued job lost by the job queue; queuing it again", "kind", kind, "job", id, "queue_state", info.State)
	case jobqueue.StateRunning:
		holder := ""
		if len(info.AttemptedBy) > 0 {
			holder = info.AttemptedBy[len(info.AttemptedBy)-1]
		}
		if holder == c.cfg.ProcID {
			return false, nil // our own handler is looking at it right now
		}
		if gone, err := dead(ctx, holder, id); err != nil || !gone {
			return false, err
		}
		// River keeps that row running until its rescuer, days later.
		c.cfg.Log.Warn("queued job was being picked up by a process that died; queuing it again", "kind", kind, "job", id, "process", holder)
	default:
		return false, nil
	}
	if run+1 >= MaxRuns {
		return requeue("the job queue lost this job several times before it ran; start it again", nil)
	}
	return requeue("queued again: the job queue lost it before it ran", c.Enqueue(ctx, kind, id, run+1))
}

// OwnerNote is the note a taken-over job carries about its owner: another
// process that stopped, or this one, whose handler stopped running the job
// (fenced off while the catalog database was unreachable).
func (c *Core) OwnerNote(owner string) string {
	switch owner {
	case c.cfg.ProcID:
		return "this process stopped running it while the catalog database was unreachable"
	case "":
		owner = "(unknown)"
	}
	return fmt.Sprintf("process %s that ran it stopped", owner)
}
