package jobs

import (
	"context"
	"errors"
	"log/slog"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/clock"
	"github.com/cofferbackup/coffer/internal/jobqueue"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// KindName names a job kind at the type level, so that one Args type
// serves every kind (River tells kinds apart by their args' Kind).
type KindName interface{ KindName() vocab.Kind }

// Args are the River args of a job of kind K: the coffer job id, and the
// run number, raised when another process takes the job over so that the
// job gets a new River job.
type Args[K KindName] struct {
	JobID string `json:"job_id"`
	Run   int    `json:"run,omitempty"`
}

// Kind is the River kind.
func (Args[K]) Kind() string {
	var k K
	return string(k.KindName())
}

// CofferJobID is the coffer job the River job runs.
func (a Args[K]) CofferJobID() string { return a.JobID }

// Define registers kind K with the core (how to build its args, how to
// take its jobs over) and returns the function that registers handle as
// its River worker when the queue is opened.
func Define[K KindName](c *Core, t Taker, handle func(ctx context.Context, id string, run int) error) func(*jobqueue.Kinds) error {
	var k K
	c.AddKind(string(k.KindName()), func(id string, run int) jobqueue.Args { return Args[K]{JobID: id, Run: run} }, t)
	return func(kinds *jobqueue.Kinds) error {
		return jobqueue.Register(kinds, func(ctx context.Context, a Args[K]) error { return handle(ctx, a.JobID, a.Run) })
	}
}

// Pick reads the job a River job names, for its kind's handler. ok is
// false when there is nothing to run now, with the handler's answer:
// coffer is stopping (a snooze: the job runs after the restart), the job
// is not in the catalog (nil), or the catalog cannot be read (a snooze).
func Pick[T any](ctx context.Context, c *Core, kind, id string, get func(context.Context, string) (T, error)) (j T, ok bool, answer error) {
	if c.Stopping() {
		return j, false, jobqueue.Snooze(ShutdownRetry)
	}
	j, err := get(ctx, id)
	if errors.Is(err, catalog.ErrNotFound) {
		c.cfg.Log.Error("queued job is not in the catalog", "kind", kind, "job", id)
		return j, false, nil
	}
	if err != nil {
		c.cfg.Log.Error("read job", "kind", kind, "job", id, "err", err)
		return j, false, jobqueue.Snooze(CatalogRetry)
	}
	return j, true, nil
}

// Deps is what every kind's owner gets from the composition: the catalog,
// its job store, the clock, the logger and this core. Each kind's Config
// embeds it.
type Deps struct {
	DB    *catalog.DB
	Jobs  *jobstore.Store // the job rows
	Clock clock.Clock
	Log   *slog.Logger
	Core  *Core
}
