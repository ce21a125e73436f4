package jobqueue

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "modernc.org/sqlite"

	"github.com/cofferbackup/coffer/internal/pgtest"
)

// openSQLiteDB opens path the way internal/catalog.OpenSQLite does.
func openSQLiteDB(path string) (*sql.DB, error) {
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// testDB is one database (a SQLite file, or a fresh PostgreSQL schema) that
// a test opens Queues on, through a handle it can replace to simulate a
// process restart.
type testDB struct {
	kind   string // "sqlite" or "postgres"
	path   string // SQLite file
	url    string // PostgreSQL
	schema string // PostgreSQL
	sqlite *sql.DB
	pool   *pgxpool.Pool
}

// forEachDB runs fn on SQLite and on PostgreSQL, in parallel.
func forEachDB(t *testing.T, fn func(t *testing.T, d *testDB)) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			fn(t, newTestDB(t, kind))
		})
	}
}

func newTestDB(t *testing.T, kind string) *testDB {
	t.Helper()
	d := &testDB{kind: kind}
	if kind == "sqlite" {
		d.path = filepath.Join(t.TempDir(), "catalog.db")
	} else {
		d.url, d.schema = pgtest.URL(), pgtest.NewSchema(t, "jobqueue_test")
	}
	d.connect(t)
	return d
}

func (d *testDB) connect(t *testing.T) {
	t.Helper()
	if d.kind == "sqlite" {
		db, err := openSQLiteDB(d.path)
		if err != nil {
			t.Fatal(err)
		}
		d.sqlite = db
		t.Cleanup(func() { _ = db.Close() })
		return
	}
	d.pool = connectPostgres(t, d.url)
}

// restart closes the handle and opens a new one, as a restarted process
// would. Queues on the old handle must be stopped first.
func (d *testDB) restart(t *testing.T) {
	t.Helper()
	if d.sqlite != nil {
		if err := d.sqlite.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if d.pool != nil {
		d.pool.Close()
	}
	d.connect(t)
}

func connectPostgres(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, url)
	if err == nil {
		err = pool.Ping(ctx)
	}
	if err != nil {
		t.Fatal(pgtest.Unreachable(url, err))
	}
	t.Cleanup(pool.Close)
	return pool
}

// open opens a Queue on the current handle; it is stopped at cleanup.
func (d *testDB) open(t *testing.T, cfg Config) *Queue {
	t.Helper()
	q, err := d.tryOpen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopQueue(t, q) })
	return q
}

func (d *testDB) tryOpen(cfg Config) (*Queue, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	if d.kind == "sqlite" {
		return OpenSQLite(ctx, d.sqlite, cfg)
	}
	cfg.Schema = d.schema
	return OpenPostgres(ctx, d.pool, cfg)
}

func stopQueue(t *testing.T, q *Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := q.Stop(ctx); err != nil {
		t.Errorf("stop: %v", err)
	}
}

func start(t *testing.T, q *Queue) {
	t.Helper()
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func quietLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// recorder counts handler calls per job id.
type recorder struct {
	mu    sync.Mutex
	count map[string]int
}

func newRecorder() *recorder {
	return &recorder{count: map[string]int{}}
}

// handlers returns handlers for every kind that record the call, then run fn
// (nil: succeed).
func (r *recorder) handlers(fn Handler) *Kinds {
	h := func(ctx context.Context, jobID string) error {
		r.mu.Lock()
		r.count[jobID]++
		r.mu.Unlock()
		if fn == nil {
			return nil
		}
		return fn(ctx, jobID)
	}
	return testKinds(h)
}

func (r *recorder) n(jobID string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.count[jobID]
}

func (r *recorder) waitCall(t *testing.T, jobID string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for r.n(jobID) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("handler not called for %s", jobID)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitState polls until the job reaches state and returns its Info.
func waitState(t *testing.T, q *Queue, kind, jobID, state string) Info {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last Info
	var err error
	for time.Now().Before(deadline) {
		last, err = q.Lookup(context.Background(), kind, jobID)
		if err == nil && last.State == state {
			return last
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s %s: want state %s, have %+v (err %v)", kind, jobID, state, last, err)
	return last
}

// The tests' job kinds: coffer's own kinds live in their packages.
const (
	KindBackup  = "backup"
	KindRestore = "restore"
)

// Handler is what the tests run for a job.
type Handler func(ctx context.Context, jobID string) error

type backupArgs struct {
	JobID string `json:"job_id"`
	Run   int    `json:"run,omitempty"`
}

func (backupArgs) Kind() string          { return KindBackup }
func (a backupArgs) CofferJobID() string { return a.JobID }

type restoreArgs struct {
	JobID string `json:"job_id"`
}

func (restoreArgs) Kind() string          { return KindRestore }
func (a restoreArgs) CofferJobID() string { return a.JobID }

func argsOf(kind, id string) Args {
	if kind == KindRestore {
		return restoreArgs{JobID: id}
	}
	return backupArgs{JobID: id}
}

// testKinds registers both test kinds, each run by h.
func testKinds(h Handler) *Kinds {
	k := NewKinds()
	if err := Register(k, func(ctx context.Context, a backupArgs) error { return h(ctx, a.JobID) }); err != nil {
		panic(err)
	}
	if err := Register(k, func(ctx context.Context, a restoreArgs) error { return h(ctx, a.JobID) }); err != nil {
		panic(err)
	}
	return k
}
