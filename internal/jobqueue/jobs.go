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

// Args are the River job args of one coffer job kind. Each kind's package
// defines its own type (River's typed args: the type names the kind) and
// registers its worker with Register; this package knows no kind. The
// JSON encoding must carry the coffer job id as "job_id" (Cancel and
// Lookup find jobs by it); any other field (a run number, say) makes a
// new River job of the same coffer job when it differs.
type Args interface {
	river.JobArgs
	CofferJobID() string
}

// Kinds collects the job kinds a Queue runs. Every process sharing a
// database must register the same kinds: any of them may fetch any job.
type Kinds struct {
	adders []func(*river.Workers) error // each adds one kind's worker
	names  map[string]bool
}

// NewKinds returns an empty set of kinds.
func NewKinds() *Kinds { return &Kinds{names: map[string]bool{}} }

// Register adds the kind of T, run by work. work's ctx is cancelled when
// the job is cancelled (IsCancelled then reports true), when JobTimeout
// passes, and when Stop gives up waiting. A returned error fails the
// attempt: the job is retried while attempts remain, else discarded.
func Register[T Args](k *Kinds, work func(ctx context.Context, args T) error) error {
	var zero T
	if k.names[zero.Kind()] || zero.Kind() == periodicKind {
		return fmt.Errorf("jobqueue: kind %q registered twice", zero.Kind())
	}
	k.names[zero.Kind()] = true
	k.adders = append(k.adders, func(w *river.Workers) error {
		return river.AddWorkerSafely(w, &worker[T]{work: work})
	})
	return nil
}

// workers builds River's worker set of the kinds.
func (k *Kinds) workers() (*river.Workers, error) {
	w := river.NewWorkers()
	for _, add := range k.adders {
		if err := add(w); err != nil {
			return nil, fmt.Errorf("jobqueue: register worker: %w", err)
		}
	}
	return w, nil
}

// worker runs one kind's work function.
type worker[T Args] struct {
	river.WorkerDefaults[T]
	work func(context.Context, T) error
}

func (w *worker[T]) Work(ctx context.Context, job *river.Job[T]) error {
	return w.work(ctx, job.Args)
}

func (q *Queue) checkArgs(a Args) error {
	if a.CofferJobID() == "" {
		return errors.New("jobqueue: empty job id")
	}
	return q.checkKind(a.Kind())
}

func (q *Queue) checkKind(kind string) error {
	if !q.kinds[kind] && kind != periodicKind {
		return fmt.Errorf("jobqueue: unknown job kind %q", kind)
	}
	return nil
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
func (q *Queue) Enqueue(ctx context.Context, a Args, opts ...EnqueueOption) error {
	if err := q.checkArgs(a); err != nil {
		return err
	}
	if _, err := q.client.Insert(ctx, a, q.insertOpts(opts)); err != nil {
		return fmt.Errorf("jobqueue: enqueue %s %s: %w", a.Kind(), a.CofferJobID(), err)
	}
	return nil
}

// EnqueueTx is Enqueue inside the caller's SQLite transaction: the job
// exists, and runs, only if tx commits. SQLite Queues only.
func (q *Queue) EnqueueTx(ctx context.Context, tx *sql.Tx, a Args, opts ...EnqueueOption) error {
	if q.sqliteC == nil {
		return errors.New("jobqueue: EnqueueTx needs a SQLite Queue (use EnqueuePgxTx)")
	}
	if err := q.checkArgs(a); err != nil {
		return err
	}
	if _, err := q.sqliteC.InsertTx(ctx, tx, a, q.insertOpts(opts)); err != nil {
		return fmt.Errorf("jobqueue: enqueue %s %s in transaction: %w", a.Kind(), a.CofferJobID(), err)
	}
	return nil
}

// EnqueuePgxTx is Enqueue inside the caller's PostgreSQL transaction.
// PostgreSQL Queues only.
func (q *Queue) EnqueuePgxTx(ctx context.Context, tx pgx.Tx, a Args, opts ...EnqueueOption) error {
	if q.pgC == nil {
		return errors.New("jobqueue: EnqueuePgxTx needs a PostgreSQL Queue (use EnqueueTx)")
	}
	if err := q.checkArgs(a); err != nil {
		return err
	}
	if _, err := q.pgC.InsertTx(ctx, tx, a, q.insertOpts(opts)); err != nil {
		return fmt.Errorf("jobqueue: enqueue %s %s in transaction: %w", a.Kind(), a.CofferJobID(), err)
	}
	return nil
}

// find returns the River rows of (kind, jobID): at most one while unique
// insertion holds.
func (q *Queue) find(ctx context.Context, kind, jobID string) ([]*rivertype.JobRow, error) {
	if err := q.checkKind(kind); err != nil {
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
