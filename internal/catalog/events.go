package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog/internal/catsql"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// JobEvent is one state change of a job: the job event log's row.
type JobEvent struct {
	JobID   string
	Seq     int64 // 1 for the job's first event
	Kind    vocab.Kind
	From    vocab.JobState // StateNone for the event that created the job
	To      vocab.JobState
	At      time.Time
	Message string // the job's StatusMessage after the change
}

// appendEvent records a state change in tx, after the change itself.
func (c *DB) appendEvent(ctx context.Context, tx *sql.Tx, kind vocab.Kind, id string, from, to vocab.JobState, msg string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO job_events (job_id, seq, kind, from_state, to_state, at, message)
		SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ?, ? FROM job_events WHERE job_id = ?`,
		id, string(kind), string(from), string(to), c.Now().UnixNano(), msg, id)
	if err != nil {
		return fmt.Errorf("append %s job %s event %s -> %s: %w", kind, id, from, to, err)
	}
	return nil
}

// errChanged reports that a job's state changed between the read and the
// conditional update of a transition: read it again.
var errChanged = errors.New("job state changed concurrently")

// Transition is the one conditional state change of every job kind: in a
// transaction it reads the job's stored state, gives up (false) unless it
// is one of from, refuses a change the transition table does not allow,
// runs update (which must change the row only if its state is still cur,
// and may add conditions of its own) and appends the event. If update
// changed nothing while the state is still cur, its own condition failed
// (false); if the state moved meanwhile, the read is repeated. then (if
// not nil) runs last in the same transaction.
func (c *DB) Transition(ctx context.Context, kind vocab.Kind, table, stateCol, id string, to vocab.JobState, msg string,
	from []string, update func(tx *sql.Tx, cur string) (sql.Result, error), then TxFunc) (bool, error) {
	for {
		done := false
		err := c.InTx(ctx, func(ftx *Tx) error {
			tx := ftx.SQL()
			readState := func() (string, error) {
				var cur string
				err := tx.QueryRowContext(ctx, `SELECT `+stateCol+` FROM `+table+` WHERE id = ?`, id).Scan(&cur)
				if errors.Is(err, sql.ErrNoRows) {
					return "", nil
				}
				return cur, err
			}
			cur, err := readState()
			if err != nil || cur == "" || !contains(from, cur) {
				return err
			}
			if err := vocab.CheckTransition(kind, vocab.JobState(cur), to); err != nil {
				return err
			}
			res, err := update(tx, cur)
			if err != nil {
				return err
			}
			if ok, err := catsql.Affected(res); err != nil || !ok {
				if err != nil {
					return err
				}
				if now, err := readState(); err != nil || now == cur {
					return err // update's own condition failed
				}
				return errChanged
			}
			done = true
			if vocab.JobState(cur) != to { // else a message or progress update: no state change to log
				if err := c.appendEvent(ctx, tx, kind, id, vocab.JobState(cur), to, msg); err != nil {
					return err
				}
			}
			return then.Run(ftx)
		})
		if errors.Is(err, errChanged) && ctx.Err() == nil {
			continue
		}
		return done, err
	}
}

// InsertEvent records, in tx, the creation of job id of kind in state to
// (its stores call it in the transaction of the insert).
func (c *DB) InsertEvent(ctx context.Context, tx *sql.Tx, kind vocab.Kind, id, to, msg string) error {
	if err := vocab.CheckTransition(kind, vocab.StateNone, vocab.JobState(to)); err != nil {
		return err
	}
	return c.appendEvent(ctx, tx, kind, id, vocab.StateNone, vocab.JobState(to), msg)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// JobEventFilter narrows ListJobEvents; zero fields match everything.
type JobEventFilter struct {
	JobID         string
	Kind          vocab.Kind
	After, Before time.Time // by event time
}

// ListJobEvents returns events oldest first (by time, then job and seq):
// the order in which audit reports and notifications read them.
func (c *DB) ListJobEvents(ctx context.Context, f JobEventFilter, p Page) ([]JobEvent, string, error) {
	var w catsql.Where
	w.Eq("job_id", f.JobID)
	w.Eq("kind", string(f.Kind))
	w.TimeRange("at", f.After, f.Before)
	return QueryPage(ctx, c, "job events", `SELECT job_id, seq, kind, from_state, to_state, at, message FROM job_events`+
		w.SQL()+` ORDER BY at, job_id, seq`, w.Args, p, scanJobEvent)
}

func scanJobEvent(s catsql.Scanner) (JobEvent, error) {
	var e JobEvent
	var kind, from, to string
	var at int64
	err := s.Scan(&e.JobID, &e.Seq, &kind, &from, &to, &at, &e.Message)
	e.Kind, e.From, e.To, e.At = vocab.Kind(kind), vocab.JobState(from), vocab.JobState(to), catsql.FromNanos(at)
	return e, err
}
