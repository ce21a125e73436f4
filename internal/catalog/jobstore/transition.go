package jobstore

import (
	"context"
	"database/sql"
	"slices"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// jobRow is what the shared transitions need of one job: its kind's table,
// state column and UPDATE statement (which ends "WHERE id = ?"), the
// values of that statement, and the run that owns the job.
type jobRow struct {
	kind            vocab.Kind
	table, stateCol string
	set             string
	values          []any
	id, state, msg  string
	owner           string
	run             int
}

// transition stores the row's mutable fields if its stored state is one
// of from and, if own, the stored job is still the run r.run claimed by
// r.owner (a process that lost its job to a takeover then changes
// nothing); then runs in the same transaction.
func (s *Store) transition(ctx context.Context, r jobRow, own bool, then catalog.TxFunc, from []string) (bool, error) {
	q := r.set + ` AND ` + r.stateCol + ` = ?`
	if own {
		q += ` AND owner = ? AND run = ?`
	}
	return s.db.Transition(ctx, r.kind, r.table, r.stateCol, r.id, vocab.JobState(r.state), r.msg, from,
		func(tx *sql.Tx, cur string) (sql.Result, error) {
			args := slices.Concat(r.values, []any{cur})
			if own {
				args = append(args, r.owner, r.run)
			}
			return tx.ExecContext(ctx, q, args...)
		}, then)
}

// insert records a new job row (insert with its args) and its first event
// in one transaction, and runs then in it; the error is the database's,
// for the caller to map (a unique violation means ErrExists there).
func (s *Store) insert(ctx context.Context, kind vocab.Kind, insert string, args []any, id, state, msg string, then catalog.TxFunc) error {
	return s.db.InTx(ctx, func(tx *catalog.Tx) error {
		if _, err := tx.SQL().ExecContext(ctx, insert, args...); err != nil {
			return err
		}
		if err := s.db.InsertEvent(ctx, tx.SQL(), kind, id, state, msg); err != nil {
			return err
		}
		return then.Run(tx)
	})
}
