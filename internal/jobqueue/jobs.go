package jobqueue

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"
)

// ErrNotFound is returned for a (kind, job id) that has no River job.
var ErrNotFound = errors.New("jobqueue: job not found")

// River job states, as Info.State reports them.
const (
	StateAvailable = string(rivertype.JobStateAvailable)
	StateCancelled = string(rivertype.JobStateCancelled)
	StateCompleted = string(rivertype.JobStateCompleted)
	StateDiscarded = string(rivertype.JobStateDiscarded)
	StatePending   = string(rivertype.JobStatePending)
	StateRetryable = string(rivertype.JobStateRetryable)
	StateRunning   = string(rivertype.JobStateRunning)
	StateScheduled = string(rivertype.JobStateScheduled)
)

// backupArgs and restoreArgs are the River job args: just the coffer job id.
type backupArgs struct {
	JobID string `json:"job_id"`
}

func (backupArgs) Kind() string    { return KindBackup }
func (a backupArgs) jobID() string { return a.JobID }

type restoreArgs struct {
	JobID string `json:"job_id"`
}

func (restoreArgs) Kind() string    { return KindRestore }
func (a restoreArgs) jobID() string { return a.JobID }

type args interface {
	river.JobArgs
	jobID() string
}

func newArgs(kind, jobID string) (river.JobArgs, error) {
	if jobID == "" {
		return nil, errors.New("jobqueue: empty job id")
	}
	switch kind {
	case KindBackup:
		return backupArgs{JobID: jobID}, nil
	case KindRestore:
		return restoreArgs{JobID: jobID}, nil
	}
	return nil, fmt.Errorf("jobqueue: unknown job kind %q", kind)
}

// worker runs a Handler for one kind.
type worker[T args] struct {
	river.WorkerDefaults[T]
	handle Handler
}

func (w *worker[T]) Work(ctx context.Context, job *river.Job[T]) error {
	return w.handle(ctx, job.Args.jobID())
}

func registerWorkers(handlers map[string]Handler) (*river.Workers, error) {
	for kind := range handlers {
		if _, err := newArgs(kind, "x"); err != nil {
			return nil, err
		}
	}
	for _, kind := range Kinds {
		if handlers[kind] == nil {
			return nil, fmt.Errorf("jobqueue: no handler for kind %q", kind)
		}
	}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &worker[backupArgs]{handle: handlers[KindBackup]}); err != nil {
		return nil, fmt.Errorf("jobqueue: register %s: %w", KindBackup, err)
	}
	if err := river.AddWorkerSafely(workers, &worker[restoreArgs]{handle: handlers[KindRestore]}); err != nil {
		return nil, fmt.Errorf("jobqueue: register %s: %w", KindRestore, err)
	}
	return workers, nil
}

// IsCancelled reports whether a handler's ctx was cancelled by Cancel (as
// opposed to JobTimeout or a stopping Queue).
func IsCancelled(ctx context.Context) bool {
	return errors.Is(context.Cause(ctx), rivertype.ErrJobCancelledRemotely)
}

// Snooze returns the error a Handler returns to put its job back in the
// queue, to run again after d without using an attempt (a resource that is
// busy, a process that is stopping).
func Snooze(d time.Duration) error { return river.JobSnooze(d) }

// EnqueueOption adjusts one Enqueue.
type EnqueueOption func(*river.InsertOpts)

// MaxAttempts sets how many times the job may run (1: never retried). A
// job rescued after its process died counts that run as an attempt.
func MaxAttempts(n int) EnqueueOption {
	return func(o *river.InsertOpts) { o.MaxAttempts = max(n, 1) }
}

// uniqueStates makes (kind, job id) unique over the whole life of the River
// row, finished or not, so a second Enqueue never runs a job again.
var uniqueStates = rivertype.JobStates()

func (q *Queue) insertOpts(opts []EnqueueOption) *river.InsertOpts {
	o := &river.InsertOpts{
		MaxAttempts: q.maxAttempts,
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByState: uniqueStates},
	}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

// Enqueue queues the coffer job jobID of kind. It is idempotent per (kind,
// jobID): while River keeps a row for it (see Config.Retention), another
// Enqueue does nothing, whatever that row's state.
func (q *Queue) Enqueue(ctx context.Context, kind, jobID string, opts ...EnqueueOption) error {
	a, err := newArgs(kind, jobID)
	if err != nil {
		return err
	}
	if _, err := q.client.Insert(ctx, a, q.insertOpts(opts)); err != nil {
		return fmt.Errorf("jobqueue: enqueue %s %s: %w", kind, jobID, err)
	}
	return nil
}

// EnqueueTx is Enqueue inside the caller's SQLite transaction: the job
// exists, and runs, only if tx commits. SQLite Queues only.
func (q *Queue) EnqueueTx(ctx context.Context, tx *sql.Tx, kind, jobID string, opts ...EnqueueOption) error {
	if q.sqliteC == nil {
		return errors.New("jobqueue: EnqueueTx needs a SQLite Queue (use EnqueuePgxTx)")
	}
	a, err := newArgs(kind, jobID)
	if err != nil {
		return err
	}
	if _, err := q.sqliteC.InsertTx(ctx, tx, a, q.insertOpts(opts)); err != nil {
		return fmt.Errorf("jobqueue: enqueue %s %s in transaction: %w", kind, jobID, err)
	}
	return nil
}

// EnqueuePgxTx is Enqueue inside the caller's PostgreSQL transaction.
// PostgreSQL Queues only.
func (q *Queue) EnqueuePgxTx(ctx context.Context, tx pgx.Tx, kind, jobID string, opts ...EnqueueOption) error {
	if q.pgC == nil {
		return errors.New("jobqueue: EnqueuePgxTx needs a PostgreSQL Queue (use EnqueueTx)")
	}
	a, err := newArgs(kind, jobID)
	if err != nil {
		return err
	}
	if _, err := q.pgC.InsertTx(ctx, tx, a, q.insertOpts(opts)); err != nil {
		return fmt.Errorf("jobqueue: enqueue %s %s in transaction: %w", kind, jobID, err)
	}
	return nil
}

// find returns the River rows of (kind, jobID): at most one while unique
// insertion holds.
func (q *Queue) find(ctx context.Context, kind, jobID string) ([]*rivertype.JobRow, error) {
	if _, err := newArgs(kind, jobID); err != nil {
		return nil, err
	}
	// `args ->> 'job_id'` reads a JSON field on both PostgreSQL (jsonb) and
	// SQLite (JSONB blob, 3.38+).
	params := river.NewJobListParams().Kinds(kind).
		Where("args ->> 'job_id' = @coffer_job_id", river.NamedArgs{"coffer_job_id": jobID})
	res, err := q.client.JobList(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("jobqueue: look up %s %s: %w", kind, jobID, err)
	}
	if len(res.Jobs) == 0 {
		return nil, fmt.Errorf("%w: %s %s", ErrNotFound, kind, jobID)
	}
	return res.Jobs, nil
}

// Cancel cancels the job: a queued one at once (it never runs); a running
// one gets its handler's ctx cancelled (IsCancelled reports true) and ends
// cancelled, not retried, if the handler returns an error — or completed
// if it returns nil. A finished job is left as it is.
func (q *Queue) Cancel(ctx context.Context, kind, jobID string) error {
	jobs, err := q.find(ctx, kind, jobID)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		row, err := q.client.JobCancel(ctx, j.ID)
		if err != nil {
			return fmt.Errorf("jobqueue: cancel %s %s: %w", kind, jobID, err)
		}
		if row.State == rivertype.JobStateRunning && q.sqliteC != nil {
			if err := q.notifyCancel(ctx, row); err != nil {
				return fmt.Errorf("jobqueue: cancel %s %s: %w", kind, jobID, err)
			}
		}
	}
	return nil
}

// notifyCancel tells the producer running job to cancel its ctx. River
// v0.43.0's SQLite JobCancel only marks the row: unlike PostgreSQL's it
// sends no control notification, and the client skips its in-process
// shortcut because the SQLite driver has a (polling) listener. So publish
// the notification River's producers listen for ourselves, in River's own
// payload format; the listener polls the outbox every 50 ms.
func (q *Queue) notifyCancel(ctx context.Context, row *rivertype.JobRow) error {
	payload, err := json.Marshal(struct {
		Action string `json:"action"`
		JobID  int64  `json:"job_id"`
		Queue  string `json:"queue"`
	}{"cancel", row.ID, row.Queue})
	if err != nil {
		return fmt.Errorf("encode cancel notification: %w", err)
	}
	err = q.exec.NotifyMany(ctx, &riverdriver.NotifyManyParams{Payload: []string{string(payload)}, Schema: q.schema, Topic: controlTopic})
	if err != nil {
		return fmt.Errorf("notify cancel: %w", err)
	}
	return nil
}

// controlTopic is River's internal notifier.NotificationTopicControl.
const controlTopic = "river_control"

// Info is River's view of one job.
type Info struct {
	State       string // one of the State constants
	Attempt     int    // attempts started so far
	MaxAttempts int
	Errors      []string // one per failed attempt, oldest first
	AttemptedBy []string // client ids that ran it, oldest first
}

// Lookup returns River's view of the job (kind, jobID), or ErrNotFound.
func (q *Queue) Lookup(ctx context.Context, kind, jobID string) (Info, error) {
	jobs, err := q.find(ctx, kind, jobID)
	if err != nil {
		return Info{}, err
	}
	j := jobs[len(jobs)-1]
	info := Info{State: string(j.State), Attempt: j.Attempt, MaxAttempts: j.MaxAttempts, AttemptedBy: j.AttemptedBy}
	for _, e := range j.Errors {
		info.Errors = append(info.Errors, e.Error)
	}
	return info, nil
}
