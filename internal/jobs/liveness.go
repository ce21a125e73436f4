package jobs

import (
	"context"
	"time"
)

// Heartbeat beats this process's liveness row every interval until
// coffer stops; run it in its own goroutine. Where processes share the
// catalog, it fences this process (cancels its jobs for the others to
// take over) once the failed beats bring its silence near DeadAfter.
func (c *Core) Heartbeat(interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	// One interval of margin, counted in beats rather than read off a
	// clock.
	fenceAfter := max(int((c.cfg.DeadAfter-interval)/interval), 1)
	failed := 0
	life := c.cfg.Life
	for {
		select {
		case <-life.Done():
			return
		case <-t.C:
			err := c.cfg.DB.Heartbeat(life, c.cfg.ProcID)
			if err == nil || life.Err() != nil {
				failed = 0
				continue
			}
			// Keep beating: a database back before our silence reaches
			// DeadAfter finds us alive.
			c.cfg.Log.Error("heartbeat", "err", err)
			if failed++; failed == fenceAfter && c.cfg.Shared {
				c.cfg.Log.Error("catalog database unreachable for too long: stopping this process's jobs for the others to take over",
					"jobs", c.Fence())
			}
		}
	}
}

// DeadFunc reports whether the process that owns job id is dead. A job
// this process owns but no longer runs (its handler was fenced off, or
// ended without recording the job's end) counts as a dead owner's too.
type DeadFunc func(ctx context.Context, owner, id string) (bool, error)

// OthersDead is the start-up view on SQLite: the data-directory lock
// proves that no other process runs.
func (c *Core) OthersDead(_ context.Context, owner, id string) (bool, error) {
	return owner != c.cfg.ProcID || !c.RunsLocally(id), nil
}

// SilentDead is the view of several processes: a process is dead once it
// has stopped or been silent for DeadAfter on the database's clock.
func (c *Core) SilentDead(ctx context.Context, owner, id string) (bool, error) {
	if owner == c.cfg.ProcID {
		return !c.RunsLocally(id), nil
	}
	alive, err := c.cfg.DB.ProcessAlive(ctx, owner, c.cfg.DeadAfter)
	return !alive, err
}
