package jobqueue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
)

// Defaults applied by Open when a Config field is zero.
const (
	DefaultJobTimeout  = 7 * 24 * time.Hour // AWS Backup's default complete window
	DefaultStopTimeout = time.Minute
	rescueMargin       = time.Hour // River's own margin over JobTimeout
)

// Config configures a Queue. Only Kinds is required.
type Config struct {
	// Kinds are the job kinds this Queue runs (see Register).
	Kinds *Kinds
	// Periodic is work that River's elected leader enqueues every
	// interval; any process's control workers may run it, one run of each
	// at a time, apart from the job workers so a busy process still runs
	// it (see Periodic).
	Periodic []Periodic
	// Workers is how many handlers run at once in this process (default 1).
	Workers int
	// Logger receives River's logs (default slog.Default()) from LogLevel
	// up (default Warn: River logs every start, stop and migration at Info).
	Logger   *slog.Logger
	LogLevel slog.Leveler
	// MaxAttempts is the default number of attempts of an enqueued job
	// (default 1: coffer decides retries itself). See the MaxAttempts option.
	MaxAttempts int
	// RetryDelay gives the wait before attempt+1 after a failed attempt
	// (default River's attempt^4 seconds with jitter).
	RetryDelay func(attempt int) time.Duration
	// JobTimeout cancels a handler's ctx after it ran this long (default
	// DefaultJobTimeout). Negative means never, which also means River never
	// rescues the job if its process dies (see doc.go).
	JobTimeout time.Duration
	// RescueStuckJobsAfter is how long a job may stay running before the
	// leader's rescuer treats its process as dead: the job is retried if it
	// has attempts left, else discarded. It must be at least JobTimeout
	// (default JobTimeout + 1h; River's rescuer runs every 30 s).
	RescueStuckJobsAfter time.Duration
	// StopTimeout is how long Stop waits for running handlers before it
	// cancels their ctx (default DefaultStopTimeout).
	StopTimeout time.Duration
	// Retention is how long finished River rows (completed, cancelled,
	// discarded) are kept; a job id cannot be enqueued again while its row
	// exists. Zero keeps River's defaults (24 h, 24 h, 7 days); negative
	// keeps them forever.
	Retention time.Duration
	// PollInterval is how often a Queue looks for jobs that became
	// available without a notification (snoozed or retried jobs, inserts
	// by other processes on SQLite). Default River's 1 s.
	PollInterval time.Duration
	// ClientID names this Queue's River client (its attempted_by on the
	// jobs it runs); default a random id from River. Unique per process.
	ClientID string
	// Schema is the PostgreSQL schema of River's tables (created if
	// missing); empty uses the search_path. Must be empty for SQLite.
	Schema string
}

// Queue runs coffer jobs on River. Its methods are safe for concurrent use.
type Queue struct {
	kinds       map[string]bool
	client      riverClient
	sqliteC     *river.Client[*sql.Tx] // nil on PostgreSQL
	pgC         *river.Client[pgx.Tx]  // nil on SQLite
	exec        riverdriver.Executor
	schema      string
	maxAttempts int
}

// riverClient is what Queue uses of river.Client, whatever its driver.
type riverClient interface {
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	JobCancel(ctx context.Context, jobID int64) (*rivertype.JobRow, error)
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	ID() string
}

// OpenSQLite runs River's migrations on db and returns a stopped Queue. db
// may be coffer's catalog handle (one connection is enough: see doc.go); it
// must stay open until the Queue is stopped.
func OpenSQLite(ctx context.Context, db *sql.DB, cfg Config) (*Queue, error) {
	if cfg.Schema != "" {
		return nil, errors.New("jobqueue: Schema is for PostgreSQL only")
	}
	driver := riversqlite.New(db)
	if err := migrate(ctx, driver, cfg); err != nil {
		return nil, err
	}
	rc, err := newClient(driver, cfg)
	if err != nil {
		return nil, err
	}
	q := newQueue(rc, driver.GetExecutor(), cfg)
	q.sqliteC = rc
	return q, nil
}

// OpenPostgres creates cfg.Schema if needed, runs River's migrations under
// an advisory lock (several processes may open at once) and returns a
// stopped Queue. The pool needs at least two connections (River holds one
// for LISTEN); it must stay open until the Queue is stopped.
func OpenPostgres(ctx context.Context, pool *pgxpool.Pool, cfg Config) (*Queue, error) {
	driver := riverpgxv5.New(pool)
	err := withAdvisoryLock(ctx, pool, "coffer/jobqueue/migrate/"+cfg.Schema, func() error {
		if cfg.Schema != "" {
			if _, err := pool.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{cfg.Schema}.Sanitize()); err != nil {
				return fmt.Errorf("jobqueue: create schema %q: %w", cfg.Schema, err)
			}
		}
		return migrate(ctx, driver, cfg)
	})
	if err != nil {
		return nil, err
	}
	rc, err := newClient(driver, cfg)
	if err != nil {
		return nil, err
	}
	q := newQueue(rc, driver.GetExecutor(), cfg)
	q.pgC = rc
	return q, nil
}

func newQueue(rc riverClient, exec riverdriver.Executor, cfg Config) *Queue {
	return &Queue{kinds: cfg.Kinds.names, client: rc, exec: exec, schema: cfg.Schema, maxAttempts: max(cfg.MaxAttempts, 1)}
}

func withAdvisoryLock(ctx context.Context, pool *pgxpool.Pool, key string, fn func() error) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("jobqueue: acquire connection: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(hashtextextended($1, 0))", key); err != nil {
		return fmt.Errorf("jobqueue: lock %q: %w", key, err)
	}
	defer func() {
		// A failed unlock (e.g. ctx cancelled) would leave the lock held by
		// a pooled connection: drop the connection instead.
		if _, err := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(hashtextextended($1, 0))", key); err != nil {
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	return fn()
}

func migrate[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], cfg Config) error {
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: logger(cfg), Schema: cfg.Schema})
	if err != nil {
		return fmt.Errorf("jobqueue: migrator: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("jobqueue: migrate River tables: %w", err)
	}
	return nil
}

func logger(cfg Config) *slog.Logger {
	l := cfg.Logger
	if l == nil {
		l = slog.Default()
	}
	var level slog.Leveler = slog.LevelWarn
	if cfg.LogLevel != nil {
		level = cfg.LogLevel
	}
	return slog.New(minLevel{Handler: l.Handler(), min: level})
}

// minLevel drops records below min.
type minLevel struct {
	slog.Handler
	min slog.Leveler
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min.Level() && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{Handler: h.Handler.WithAttrs(attrs), min: h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{Handler: h.Handler.WithGroup(name), min: h.min}
}

func newClient[TTx any](driver riverdriver.Driver[TTx], cfg Config) (*river.Client[TTx], error) {
	if cfg.Kinds == nil || len(cfg.Kinds.names) == 0 {
		return nil, errors.New("jobqueue: Config.Kinds registers no job kind")
	}
	workers, err := cfg.Kinds.workers()
	if err != nil {
		return nil, err
	}
	periodic, err := registerPeriodic(workers, cfg.Periodic)
	if err != nil {
		return nil, err
	}
	rcfg := &river.Config{
		ID:           cfg.ClientID,
		JobTimeout:   cfg.JobTimeout,
		Logger:       logger(cfg),
		MaxAttempts:  max(cfg.MaxAttempts, 1),
		PeriodicJobs: periodic,
		Queues: map[string]river.QueueConfig{
			river.QueueDefault: {MaxWorkers: max(cfg.Workers, 1)},
			controlQueue:       {MaxWorkers: max(len(cfg.Periodic), 1)},
		},
		RescueStuckJobsAfter: cfg.RescueStuckJobsAfter,
		Schema:               cfg.Schema,
		SoftStopTimeout:      cfg.StopTimeout,
		Workers:              workers,
	}
	if cfg.PollInterval > 0 {
		rcfg.FetchPollInterval = cfg.PollInterval
		rcfg.FetchCooldown = min(river.FetchCooldownDefault, cfg.PollInterval)
	}
	if rcfg.JobTimeout == 0 {
		rcfg.JobTimeout = DefaultJobTimeout
	}
	if rcfg.RescueStuckJobsAfter == 0 {
		rcfg.RescueStuckJobsAfter = max(rcfg.JobTimeout, 0) + rescueMargin
	}
	if rcfg.SoftStopTimeout <= 0 {
		rcfg.SoftStopTimeout = DefaultStopTimeout
	}
	if cfg.RetryDelay != nil {
		rcfg.RetryPolicy = retryPolicy(cfg.RetryDelay)
	}
	if cfg.Retention != 0 {
		r := max(cfg.Retention, -1)
		rcfg.CompletedJobRetentionPeriod, rcfg.CancelledJobRetentionPeriod, rcfg.DiscardedJobRetentionPeriod = r, r, r
	}
	c, err := river.NewClient(driver, rcfg)
	if err != nil {
		return nil, fmt.Errorf("jobqueue: new River client: %w", err)
	}
	return c, nil
}

// retryPolicy adapts Config.RetryDelay to River.
type retryPolicy func(attempt int) time.Duration

func (p retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().UTC().Add(max(p(job.Attempt), 0))
}

// Start starts fetching and running jobs. Cancelling ctx stops the Queue
// like Stop does.
func (q *Queue) Start(ctx context.Context) error {
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("jobqueue: start: %w", err)
	}
	return nil
}

// Stop stops fetching jobs and waits for running handlers; after
// Config.StopTimeout their ctx is cancelled, and Stop still waits for them
// to return. If ctx ends first, Stop cancels the handlers at once and
// returns ctx's error. A Queue never started stops at once.
func (q *Queue) Stop(ctx context.Context) error {
	err := q.client.Stop(ctx)
	if err == nil {
		return nil
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = q.client.StopAndCancel(cctx)
	return fmt.Errorf("jobqueue: stop: %w", err)
}

// ClientID is this Queue's River client id (the attempted_by of its jobs and
// the leader id while it leads).
func (q *Queue) ClientID() string { return q.client.ID() }

// IsLeader reports whether this Queue is River's elected leader for its
// database (and schema). Only a started Queue takes part in the election;
// leadership can move at any time, so act on the answer promptly and ask
// again before each round of leader-only work.
func (q *Queue) IsLeader(ctx context.Context) (bool, error) {
	leader, err := q.exec.LeaderGetElectedLeader(ctx, &riverdriver.LeaderGetElectedLeaderParams{Schema: q.schema})
	if errors.Is(err, rivertype.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("jobqueue: read leader: %w", err)
	}
	return leader.LeaderID == q.client.ID() && leader.ExpiresAt.After(time.Now()), nil
}
