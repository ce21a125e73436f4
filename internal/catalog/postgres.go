package catalog

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// PostgresOptions tunes OpenPostgres.
type PostgresOptions struct {
	// Schema holds the catalog's tables (created if missing); the job
	// queue should use it too (see DB.Schema). Empty: the URL's
	// search_path option when it names one schema (?search_path=coffer),
	// created if missing too; else the server's search_path, normally public.
	Schema string
}

// schemaName is a search_path that names one plain schema.
var schemaName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// defaultMaxConns is the pool size unless the URL sets pool_max_conns:
// River's listener holds one connection, its producer and each running job
// use more, and pgx's default (4 on small machines) is too tight.
const defaultMaxConns = 16

// OpenPostgres connects to the PostgreSQL database at url (a postgres://
// URL, as pgx reads it) and applies pending migrations under an advisory
// lock, so several processes may start at once.
//
// The catalog runs on database/sql through pgx's stdlib adapter over one
// pgxpool, which River (riverpgxv5) shares; see Pool and Tx.Pgx.
func OpenPostgres(ctx context.Context, url string, opts PostgresOptions) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message may quote the URL with its password: leave it out.
		return nil, errors.New("open catalog: cannot parse the PostgreSQL URL (want postgres://user:password@host:port/database?options)")
	}
	if opts.Schema == "" && schemaName.MatchString(cfg.ConnConfig.RuntimeParams["search_path"]) {
		opts.Schema = cfg.ConnConfig.RuntimeParams["search_path"]
	}
	if opts.Schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = opts.Schema
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = max(cfg.MaxConns, defaultMaxConns)
	}
	where := fmt.Sprintf("PostgreSQL %s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open catalog on %s: %w", where, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open catalog on %s: %w", where, err)
	}
	db := sql.OpenDB(pgConnector{stdlib.GetPoolConnector(pool)})
	// Idle connections belong in the pgxpool, where River can use them.
	db.SetMaxIdleConns(0)
	c := &DB{db: db, engine: Postgres, pool: pool, schema: opts.Schema}
	if err := c.migrate(ctx); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("migrate catalog on %s: %w", where, err)
	}
	return c, nil
}

// Pool returns the pgx pool under the catalog, for River's riverpgxv5
// driver; nil on SQLite.
func (c *DB) Pool() *pgxpool.Pool { return c.pool }

// Schema returns the PostgreSQL schema of the catalog's tables ("" for the
// search_path, and on SQLite).
func (c *DB) Schema() string { return c.schema }

func withAdvisoryLock(ctx context.Context, pool *pgxpool.Pool, key string, fn func() error) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(hashtextextended($1, 0))", key); err != nil {
		return fmt.Errorf("lock %q: %w", key, err)
	}
	defer func() {
		// A failed unlock would leave the lock held by a pooled connection:
		// drop the connection instead.
		if _, err := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(hashtextextended($1, 0))", key); err != nil {
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	return fn()
}

// pgConnector hands database/sql pgConns over pgx's pool connections.
type pgConnector struct{ driver.Connector }

func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := dc.(*stdlib.Conn)
	if !ok {
		_ = dc.Close()
		return nil, fmt.Errorf("catalog: pgx stdlib returned a %T", dc)
	}
	return &pgConn{sc: sc}, nil
}

// pgConn is pgx's database/sql connection with two additions: every
// statement's `?` placeholders are rebound to `$n` (the one place catalog
// SQL is adapted to PostgreSQL), and it keeps its open transaction as a
// pgx.Tx so that River can insert into it (Tx.Pgx).
type pgConn struct {
	sc *stdlib.Conn
	tx pgx.Tx // the open transaction, nil outside one
}

var (
	_ driver.ConnBeginTx        = (*pgConn)(nil)
	_ driver.ConnPrepareContext = (*pgConn)(nil)
	_ driver.ExecerContext      = (*pgConn)(nil)
	_ driver.QueryerContext     = (*pgConn)(nil)
	_ driver.Pinger             = (*pgConn)(nil)
	_ driver.SessionResetter    = (*pgConn)(nil)
	_ driver.NamedValueChecker  = (*pgConn)(nil)
)

func (c *pgConn) Prepare(query string) (driver.Stmt, error) { return c.sc.Prepare(rebind(query)) }

func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.sc.PrepareContext(ctx, rebind(query))
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.sc.ExecContext(ctx, rebind(query), args)
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.sc.QueryContext(ctx, rebind(query), args)
}

func (c *pgConn) Close() error                                { return c.sc.Close() }
func (c *pgConn) Ping(ctx context.Context) error              { return c.sc.Ping(ctx) }
func (c *pgConn) ResetSession(ctx context.Context) error      { return c.sc.ResetSession(ctx) }
func (c *pgConn) CheckNamedValue(nv *driver.NamedValue) error { return c.sc.CheckNamedValue(nv) }
func (c *pgConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx begins the transaction through pgx itself (not stdlib's BeginTx,
// which hides its pgx.Tx), so that Tx.Pgx can hand the same transaction
// to River.
func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if c.sc.Conn().IsClosed() {
		return nil, driver.ErrBadConn
	}
	if sql.IsolationLevel(opts.Isolation) != sql.LevelDefault {
		return nil, fmt.Errorf("catalog: isolation level %v is not used", sql.IsolationLevel(opts.Isolation))
	}
	var popts pgx.TxOptions
	if opts.ReadOnly {
		popts.AccessMode = pgx.ReadOnly
	}
	tx, err := c.sc.Conn().BeginTx(ctx, popts)
	if err != nil {
		return nil, err
	}
	c.tx = tx
	return &pgTx{conn: c, tx: tx, ctx: ctx}, nil
}

type pgTx struct {
	conn *pgConn
	tx   pgx.Tx
	ctx  context.Context
}

func (t *pgTx) Commit() error {
	t.conn.tx = nil
	return t.tx.Commit(t.ctx)
}

func (t *pgTx) Rollback() error {
	t.conn.tx = nil
	return t.tx.Rollback(t.ctx)
}
