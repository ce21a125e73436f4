package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
)

// Claims that check other rows before they change one (no other backup of
// this bucket runs, no maintenance of this vault runs: see
// jobstore's vaultbusy.go) and tag changes that check a limit are one
// statement each, but on PostgreSQL two such statements in concurrent
// transactions can both pass (write skew under READ COMMITTED). So each
// first takes transaction-scoped locks on what it checks, which orders
// concurrent changes of the same things.

// LockKeys takes a lock on each key until tx ends: PostgreSQL advisory
// transaction locks, in a fixed order; on SQLite, whose single writer
// already serialises transactions, nothing.
func (c *DB) LockKeys(ctx context.Context, tx *sql.Tx, keys ...string) error {
	if c.engine != Postgres {
		return nil
	}
	sort.Strings(keys) // one order for every claim: no deadlock between two
	for _, k := range keys {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`, "coffer:"+k); err != nil {
			return fmt.Errorf("lock %s: %w", k, err)
		}
	}
	return nil
}
