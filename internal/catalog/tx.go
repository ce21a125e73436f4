package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ErrNotPostgres is returned by Tx.Pgx on a SQLite catalog.
var ErrNotPostgres = errors.New("catalog: not a PostgreSQL catalog")

// Tx is a catalog transaction as work joined to it (a TxFunc) sees it.
//
// Why this shape: the job queue must insert a job's River row in the
// transaction that records the job, on both engines. River's SQLite driver
// takes a *sql.Tx, its PostgreSQL driver (riverpgxv5, which also gives
// LISTEN/NOTIFY) a pgx.Tx. The catalog runs on database/sql on both
// engines (one set of SQL, `?` placeholders rebound in one place); on
// PostgreSQL its connections are pgx connections of the pgxpool River
// shares, and pgConn begins each transaction through pgx and keeps the
// pgx.Tx. So a Tx offers the same transaction both ways: SQL() for
// database/sql and riversqlite, Pgx() for riverpgxv5.
type Tx struct {
	tx   *sql.Tx
	conn *sql.Conn
}

// SQL returns the transaction for database/sql (and River's SQLite driver).
func (t *Tx) SQL() *sql.Tx { return t.tx }

// Pgx runs fn with the same transaction as pgx sees it, for River's
// riverpgxv5 driver; ErrNotPostgres on SQLite. fn must not commit or roll
// back (the catalog does: those calls fail) and must not use SQL() while it
// runs (the connection is held for fn).
func (t *Tx) Pgx(fn func(pgx.Tx) error) error {
	return t.conn.Raw(func(dc any) error {
		pc, ok := dc.(*pgConn)
		if !ok {
			return ErrNotPostgres
		}
		if pc.tx == nil {
			return errors.New("catalog: transaction already ended")
		}
		return fn(joinedTx{pc.tx})
	})
}

// joinedTx is a pgx.Tx the catalog owns: its caller may use it, and nest
// savepoints in it, but not end it.
type joinedTx struct{ pgx.Tx }

var errOwnedTx = errors.New("catalog: the catalog commits or rolls back this transaction")

func (joinedTx) Commit(context.Context) error   { return errOwnedTx }
func (joinedTx) Rollback(context.Context) error { return errOwnedTx }

// TxFunc is work done inside the transaction of an insert.
type TxFunc func(*Tx) error

// Run runs f in tx; a nil f does nothing.
func (f TxFunc) Run(tx *Tx) error {
	if f == nil {
		return nil
	}
	return f(tx)
}

// InTx runs fn in a transaction on one connection (held so that
// Tx.Pgx can reach it), committed if fn returns nil.
func (c *DB) InTx(ctx context.Context, fn func(*Tx) error) error {
	conn, err := c.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("catalog connection: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := fn(&Tx{tx: tx, conn: conn}); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
