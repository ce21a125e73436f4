package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/clock"
	"github.com/cofferbackup/coffer/internal/jobqueue"
)

// Why a running job's context was cancelled: each kind's handler reads
// the cause to record how the job ended.
var (
	ErrStopped          = errors.New("stopped by a stop request")
	ErrCompletionWindow = errors.New("not completed within its completion window")
	ErrShutdown         = errors.New("coffer is stopping")
	// ErrFenced cancels the jobs of a process that lost the catalog
	// database for about DeadAfter: the other processes hold it dead by
	// then and take its jobs over, so it must not go on writing them.
	ErrFenced = errors.New("this process lost the catalog database for too long; its jobs are taken over")
)

// How long a job waits before it looks again at what kept it from running.
const (
	BusyRetry     = time.Second     // another backup of its bucket runs, or its vault is held
	ShutdownRetry = 2 * time.Second // coffer is stopping: the job runs after restart
	CatalogRetry  = 5 * time.Second // the catalog could not be read
)

// ArgsFunc returns the River args of run of job id of one kind.
type ArgsFunc func(id string, run int) jobqueue.Args

// Config configures the core of one process.
type Config struct {
	DB     *catalog.DB
	Clock  clock.Clock
	Log    *slog.Logger
	ProcID string // this process's liveness row and River client id
	// Life ends when coffer stops: it cancels every running job with
	// ErrShutdown and ends catalog retries.
	Life context.Context
	// Shared: several processes share the catalog (PostgreSQL).
	Shared bool
	// DeadAfter: a process silent that long is dead.
	DeadAfter time.Duration
}

// Core is the job core of one process. Safe for concurrent use once
// SetQueue has been called.
type Core struct {
	cfg     Config
	queue   *jobqueue.Queue
	running Running
	kinds   map[string]ArgsFunc
	takers  []Taker
}

// New returns the core; each kind then registers itself (AddKind), and
// SetQueue gives it the job queue before the queue starts.
func New(cfg Config) *Core {
	return &Core{cfg: cfg, kinds: map[string]ArgsFunc{}}
}

// AddKind registers the River args of a kind and the takeover of its
// jobs whose process died.
func (c *Core) AddKind(kind string, args ArgsFunc, t Taker) {
	c.kinds[kind] = args
	if t != nil {
		c.takers = append(c.takers, t)
	}
}

// SetQueue gives the core the job queue (opened after every kind is
// registered).
func (c *Core) SetQueue(q *jobqueue.Queue) { c.queue = q }

// ProcID is this process's id, the owner recorded on the jobs it claims.
func (c *Core) ProcID() string { return c.cfg.ProcID }

// Stopping reports whether coffer is stopping: handlers snooze new work.
func (c *Core) Stopping() bool { return c.cfg.Life.Err() != nil }

// Enqueue returns the TxFunc that queues run of job id of kind in the
// transaction that records the job's change: River's driver for the
// engine gets the same transaction (see catalog.Tx).
func (c *Core) Enqueue(ctx context.Context, kind, id string, run int) catalog.TxFunc {
	a := c.args(kind, id, run)
	return func(tx *catalog.Tx) error {
		if c.cfg.DB.Engine() == catalog.Postgres {
			return tx.Pgx(func(ptx pgx.Tx) error { return c.queue.EnqueuePgxTx(ctx, ptx, a) })
		}
		return c.queue.EnqueueTx(ctx, tx.SQL(), a)
	}
}

func (c *Core) args(kind, id string, run int) jobqueue.Args {
	f, ok := c.kinds[kind]
	if !ok {
		panic(fmt.Sprintf("jobs: kind %q was not registered", kind)) // a wiring bug, caught by every test
	}
	return f(id, run)
}

// Context derives the context job id runs in: cancelled by River (a stop
// from any process), by coffer stopping (cause ErrShutdown), and through
// the set of running jobs (a stop or a window in this process, a fence).
// done must be called when the job's handler returns.
func (c *Core) Context(ctx context.Context, id string) (jctx context.Context, done func()) {
	jctx, end := c.running.Start(ctx, id)
	stop := context.AfterFunc(c.cfg.Life, func() { c.running.Cancel(id, ErrShutdown) })
	return jctx, func() {
		stop()
		end()
	}
}

// CancelLocal cancels job id with cause if it runs in this process.
func (c *Core) CancelLocal(id string, cause error) bool { return c.running.Cancel(id, cause) }

// RunsLocally reports whether job id runs in this process now.
func (c *Core) RunsLocally(id string) bool { return c.running.Has(id) }

// CancelQueued tells River that job id must not run, or must stop
// wherever it runs.
func (c *Core) CancelQueued(ctx context.Context, kind, id string) {
	if err := c.queue.Cancel(ctx, kind, id); err != nil && !errors.Is(err, jobqueue.ErrNotFound) {
		c.cfg.Log.Warn("cancel queued job", "kind", kind, "job", id, "err", err)
	}
}

// Stop cancels job id wherever it runs: here with cause, elsewhere
// through River.
func (c *Core) Stop(ctx context.Context, kind, id string, cause error) {
	if !c.CancelLocal(id, cause) {
		c.CancelQueued(ctx, kind, id)
	}
}

// Fence cancels every job this process runs (see Heartbeat).
func (c *Core) Fence() int { return c.running.CancelAll(ErrFenced) }

// QueuedInterrupted is a handler's answer when the context of a job that
// has not started ended: coffer is stopping (the job stays queued), or a
// stop request ended it (already recorded).
func QueuedInterrupted(jctx context.Context) error {
	if errors.Is(context.Cause(jctx), ErrShutdown) {
		return jobqueue.Snooze(ShutdownRetry)
	}
	return nil
}

// QueueState is River's state of the job of kind with coffer id id
// ("completed", "running", ...), or "" when River holds no row for it
// (never queued, or cleaned up): for kinds whose jobs are rows of their
// own table only while queued (capture), to find a job lost with its
// process.
func (c *Core) QueueState(ctx context.Context, kind, id string) (string, error) {
	info, err := c.queue.Lookup(ctx, kind, id)
	if errors.Is(err, jobqueue.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return info.State, nil
}
