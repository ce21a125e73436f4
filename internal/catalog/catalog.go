package catalog

import (
	"context"
	"database/sql"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/cofferbackup/coffer/internal/catalog/internal/catsql"
	"github.com/cofferbackup/coffer/internal/clock"
	"github.com/cofferbackup/coffer/internal/fsmode"
	"github.com/cofferbackup/coffer/internal/vocab"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Sentinel errors callers branch on.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	// ErrBadToken is also vocab.ErrInvalidParameter: the API answers it
	// as InvalidParameterValueException.
	ErrBadToken = fmt.Errorf("%w: NextToken is not valid", vocab.ErrInvalidParameter)
)

// Engine names the database a catalog runs on.
type Engine string

// The engines the catalog runs on.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// DB is the catalog database.
type DB struct {
	db     *sql.DB
	engine Engine
	pool   *pgxpool.Pool // PostgreSQL only: the pool under db, shared with River
	schema string        // PostgreSQL only: the tables' schema ("" = search_path)
	clock  clock.Clock   // times of job events; nil means the wall clock

	sigPurgeAt atomic.Int64 // next purge of expired request signatures (signatures.go), Unix ns
}

// SetClock sets the clock that dates job events (default: the wall clock).
// Call it before the DB is shared.
func (c *DB) SetClock(clk clock.Clock) { c.clock = clk }

// Now is the time on the catalog's clock: the time of job events, and of
// rows its stores date.
func (c *DB) Now() time.Time {
	if c.clock == nil {
		return clock.Real{}.Now()
	}
	return c.clock.Now()
}

// OpenSQLite opens (creating if needed) the SQLite catalog at path and
// applies pending migrations. The database file and its WAL and shared
// memory are 0600 (see privateSQLite).
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	if err := privateSQLite(path); err != nil {
		return nil, fmt.Errorf("open catalog %q: %w", path, err)
	}
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open catalog %q: %w", path, err)
	}
	// One connection: SQLite serialises writers anyway, and this rules out
	// SQLITE_BUSY between our own goroutines.
	db.SetMaxOpenConns(1)
	c := &DB{db: db, engine: SQLite}
	if err := c.migrate(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("migrate catalog %q: %w", path, err)
	}
	return c, nil
}

// privateSQLite creates the database file 0600 if it is missing, and makes
// an existing one and its companions 0600 (an older coffer left them
// 0644). SQLite creates its -wal, -shm and -journal files with the mode
// of the database file, so none is created open, whatever the umask: no
// process-wide umask change is needed.
func privateSQLite(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, fsmode.File)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		if err := fsmode.Restrict(path + suffix); err != nil {
			return err
		}
	}
	return nil
}

// Close closes the database (and on PostgreSQL its pool: stop the job
// queue first).
func (c *DB) Close() error {
	err := c.db.Close()
	if c.pool != nil {
		c.pool.Close()
	}
	return err
}

// Engine reports which database the catalog runs on.
func (c *DB) Engine() Engine { return c.engine }

func (c *DB) migrate(ctx context.Context) error {
	if c.engine == Postgres {
		// Processes starting together must not apply a migration twice.
		return withAdvisoryLock(ctx, c.pool, "coffer/catalog/migrate/"+c.schema, func() error {
			if c.schema != "" {
				if _, err := c.db.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{c.schema}.Sanitize()); err != nil {
					return fmt.Errorf("create schema %q: %w", c.schema, err)
				}
			}
			return c.applyMigrations(ctx)
		})
	}
	return c.applyMigrations(ctx)
}

func (c *DB) applyMigrations(ctx context.Context) error {
	if _, err := c.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return err
	}
	entries, err := migrations.ReadDir("migrations")
	if err != nil {
		return err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for _, name := range names {
		version, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %q: bad name: %w", name, err)
		}
		var n int
		if err := c.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		body, err := migrations.ReadFile("migrations/" + name)
		if err != nil {
			return err
		}
		if err := c.inTx(ctx, func(tx *sql.Tx) error {
			for _, stmt := range strings.Split(string(body), ";") {
				if strings.TrimSpace(stmt) == "" {
					continue
				}
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("migration %q: %w", name, err)
				}
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, version, time.Now().UnixNano())
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

// inTx runs fn in a transaction, committed if fn returns nil.
func (c *DB) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	return c.InTx(ctx, func(tx *Tx) error { return fn(tx.tx) })
}

// Page asks for one page of a listing.
type Page struct {
	Token string // from a previous listing; "" for the first page
	Max   int    // 0 means 100; capped at 1000
}

func (p Page) bounds() (offset, limit int, err error) {
	limit = p.Max
	if limit <= 0 {
		limit = 100
	}
	if limit > 1000 {
		limit = 1000
	}
	if p.Token == "" {
		return 0, limit, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(p.Token)
	if err != nil || !strings.HasPrefix(string(raw), "o:") {
		return 0, 0, ErrBadToken
	}
	offset, err = strconv.Atoi(strings.TrimPrefix(string(raw), "o:"))
	if err != nil || offset < 0 {
		return 0, 0, ErrBadToken
	}
	return offset, limit, nil
}

func nextToken(offset, limit, got int) string {
	if got <= limit {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(offset+limit)))
}

// QueryPage runs query (which must end before ORDER BY's LIMIT/OFFSET) for
// one page and scans its rows: the listings of the catalog and its stores.
func QueryPage[T any](ctx context.Context, c *DB, what, query string, args []any, p Page, scan func(catsql.Scanner) (T, error)) ([]T, string, error) {
	offset, limit, err := p.bounds()
	if err != nil {
		return nil, "", err
	}
	rows, err := c.db.QueryContext(ctx, query+" LIMIT ? OFFSET ?", append(args, limit+1, offset)...)
	if err != nil {
		return nil, "", fmt.Errorf("list %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, "", fmt.Errorf("list %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list %s: %w", what, err)
	}
	tok := nextToken(offset, limit, len(out))
	if len(out) > limit {
		out = out[:limit]
	}
	return out, tok, nil
}

// SQL returns the database handle, for the job queue on SQLite, which keeps
// its tables beside the catalog's and inserts jobs in the catalog's
// transactions. On SQLite it is the catalog's single connection: do not
// hold it. On PostgreSQL it is database/sql over Pool, with `?`
// placeholders rebound (see rebind).
func (c *DB) SQL() *sql.DB { return c.db }

// AllPages collects every page of a listing (in the listing's order). For
// the passes that must see every row (takeover, windows, rebuild); the
// API pages.
func AllPages[T any](list func(Page) ([]T, string, error)) ([]T, error) {
	var all []T
	p := Page{Max: 1000}
	for {
		items, tok, err := list(p)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if tok == "" {
			return all, nil
		}
		p.Token = tok
	}
}
