package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog/internal/catsql"
)

// Process is one coffer process sharing the catalog, as its liveness row
// records it. BeatAt is the database's clock at the last heartbeat.
type Process struct {
	ID        string
	Host      string
	PID       int64
	StartedAt time.Time
	BeatAt    time.Time
	Stopped   bool // closed cleanly: its jobs are settled already
}

// dbNowMillis is the database's own clock in milliseconds since the
// epoch: heartbeats and their age are both read off it, so processes
// whose clocks differ still agree on who is alive.
const (
	dbNowMillisSQLite   = `CAST(unixepoch('subsec') * 1000 AS INTEGER)`
	dbNowMillisPostgres = `CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)`
)

func (c *DB) dbNowMillis() string {
	if c.engine == Postgres {
		return dbNowMillisPostgres
	}
	return dbNowMillisSQLite
}

// RegisterProcess records a starting process, beating now.
func (c *DB) RegisterProcess(ctx context.Context, p Process) error {
	_, err := c.db.ExecContext(ctx, `INSERT INTO processes (id, host, pid, started_at, beat_at, stopped) VALUES (?, ?, ?, ?, `+
		c.dbNowMillis()+`, 0)`, p.ID, p.Host, p.PID, catsql.ToNanos(p.StartedAt))
	if err != nil {
		return fmt.Errorf("register process %s: %w", p.ID, err)
	}
	return nil
}

// Heartbeat records that process id is alive now.
func (c *DB) Heartbeat(ctx context.Context, id string) error {
	if _, err := c.db.ExecContext(ctx, `UPDATE processes SET beat_at = `+c.dbNowMillis()+` WHERE id = ?`, id); err != nil {
		return fmt.Errorf("heartbeat of process %s: %w", id, err)
	}
	return nil
}

// StopProcess records that process id closed cleanly.
func (c *DB) StopProcess(ctx context.Context, id string) error {
	if _, err := c.db.ExecContext(ctx, `UPDATE processes SET stopped = 1 WHERE id = ?`, id); err != nil {
		return fmt.Errorf("record stop of process %s: %w", id, err)
	}
	return nil
}

// ProcessAlive reports whether process id beat within the last silence
// and has not stopped. A process without a row (an older catalog, or a
// pruned row) is not alive.
func (c *DB) ProcessAlive(ctx context.Context, id string, silence time.Duration) (bool, error) {
	var n int
	err := c.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM processes WHERE id = ? AND stopped = 0 AND beat_at > `+
		c.dbNowMillis()+` - ?`, id, silence.Milliseconds()).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("liveness of process %s: %w", id, err)
	}
	return n > 0, nil
}

// Process returns the liveness row of process id; ErrNotFound if absent.
func (c *DB) Process(ctx context.Context, id string) (Process, error) {
	var p Process
	var started, beat, stopped int64
	err := c.db.QueryRowContext(ctx, `SELECT id, host, pid, started_at, beat_at, stopped FROM processes WHERE id = ?`, id).
		Scan(&p.ID, &p.Host, &p.PID, &started, &beat, &stopped)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("process %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("read process %s: %w", id, err)
	}
	p.StartedAt, p.BeatAt, p.Stopped = catsql.FromNanos(started), time.UnixMilli(beat).UTC(), stopped != 0
	return p, nil
}

// PruneProcesses removes the rows of processes that stopped or have been
// silent for longer than keep and own no active job.
func (c *DB) PruneProcesses(ctx context.Context, keep time.Duration) (int64, error) {
	res, err := c.db.ExecContext(ctx, `DELETE FROM processes WHERE (stopped = 1 OR beat_at < `+c.dbNowMillis()+` - ?)
		AND NOT EXISTS (SELECT 1 FROM backup_jobs WHERE owner = processes.id AND state IN ('RUNNING', 'ABORTING'))
		AND NOT EXISTS (SELECT 1 FROM restore_jobs WHERE owner = processes.id AND status = 'RUNNING')`, keep.Milliseconds())
	if err != nil {
		return 0, fmt.Errorf("prune processes: %w", err)
	}
	return res.RowsAffected()
}
