package jobstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/internal/catsql"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// MaintenanceJob is one maintenance job: a vault's reclaiming of the space
// of deleted recovery points.
type MaintenanceJob struct {
	ID            string
	VaultName     string
	VaultARN      string
	State         string
	StatusMessage string
	// Trigger says what asked for the job (service.Trigger* values).
	Trigger     string
	CreatedAt   time.Time
	StartedAt   time.Time
	CompletedAt time.Time
	// Owner is the process that claimed the job; Run counts the times a
	// live process took it over after its owner died.
	Owner string
	Run   int
	Stats string // JSON of the run's vaultmaint.Stats
}

const maintenanceJobCols = `id, vault_name, vault_arn, state, status_message, cause, created_at, started_at, completed_at, owner, run, stats`

func scanMaintenanceJob(s catsql.Scanner) (MaintenanceJob, error) {
	var j MaintenanceJob
	var created, started, completed int64
	err := s.Scan(&j.ID, &j.VaultName, &j.VaultARN, &j.State, &j.StatusMessage, &j.Trigger, &created, &started, &completed,
		&j.Owner, &j.Run, &j.Stats)
	j.CreatedAt, j.StartedAt, j.CompletedAt = catsql.FromNanos(created), catsql.FromNanos(started), catsql.FromNanos(completed)
	return j, err
}

// InsertMaintenanceJob records a new job and runs then (if not nil) in the
// same transaction. ErrExists if a maintenance job of the vault is
// already queued (CREATED): that one absorbs the request.
func (s *Store) InsertMaintenanceJob(ctx context.Context, j MaintenanceJob, then catalog.TxFunc) error {
	err := s.insert(ctx, vocab.KindMaintenance, `INSERT INTO maintenance_jobs (`+maintenanceJobCols+`) VALUES (`+catsql.Placeholders(12)+`)`, []any{
		j.ID, j.VaultName, j.VaultARN, j.State, j.StatusMessage, j.Trigger, catsql.ToNanos(j.CreatedAt), catsql.ToNanos(j.StartedAt),
		catsql.ToNanos(j.CompletedAt), j.Owner, j.Run, catsql.NonEmpty(j.Stats, "{}")},
		j.ID, j.State, j.StatusMessage, then)
	if catalog.IsUniqueViolation(err) {
		return fmt.Errorf("maintenance job of vault %q: %w", j.VaultName, catalog.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("insert maintenance job %s: %w", j.ID, err)
	}
	return nil
}

const maintenanceJobSet = `UPDATE maintenance_jobs SET state = ?, status_message = ?, started_at = ?, completed_at = ?,
	owner = ?, run = ?, stats = ? WHERE id = ?`

// TransitionMaintenanceJob stores every mutable field of j only if the
// stored state is one of from, and reports whether it did. ErrExists if
// the change would make a second queued (or running) job of the vault.
func (s *Store) TransitionMaintenanceJob(ctx context.Context, j MaintenanceJob, from ...string) (bool, error) {
	return s.TransitionMaintenanceJobTx(ctx, j, nil, from...)
}

// TransitionMaintenanceJobTx is TransitionMaintenanceJob that also runs
// then in the transaction of the change.
func (s *Store) TransitionMaintenanceJobTx(ctx context.Context, j MaintenanceJob, then catalog.TxFunc, from ...string) (bool, error) {
	ok, err := s.transition(ctx, jobRow{kind: vocab.KindMaintenance, table: "maintenance_jobs", stateCol: "state", set: maintenanceJobSet,
		values: []any{j.State, j.StatusMessage, catsql.ToNanos(j.StartedAt), catsql.ToNanos(j.CompletedAt), j.Owner, j.Run,
			catsql.NonEmpty(j.Stats, "{}"), j.ID},
		id: j.ID, state: j.State, msg: j.StatusMessage}, false, then, from)
	if catalog.IsUniqueViolation(err) {
		return false, fmt.Errorf("maintenance job %s of vault %q to %s: another one is %s: %w", j.ID, j.VaultName, j.State, j.State, catalog.ErrExists)
	}
	if err != nil {
		return false, fmt.Errorf("maintenance job %s to %s: %w", j.ID, j.State, err)
	}
	return ok, nil
}

// MaintenanceJob returns one job; ErrNotFound if absent.
func (s *Store) MaintenanceJob(ctx context.Context, id string) (MaintenanceJob, error) {
	j, err := scanMaintenanceJob(s.db.SQL().QueryRowContext(ctx, `SELECT `+maintenanceJobCols+` FROM maintenance_jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return MaintenanceJob{}, fmt.Errorf("maintenance job %q: %w", id, catalog.ErrNotFound)
	}
	if err != nil {
		return MaintenanceJob{}, fmt.Errorf("read maintenance job %q: %w", id, err)
	}
	return j, nil
}

// MaintenanceJobFilter narrows ListMaintenanceJobs; zero fields match
// everything.
type MaintenanceJobFilter struct {
	VaultName, State string
	States           []string
}

// ListMaintenanceJobs returns jobs newest first.
func (s *Store) ListMaintenanceJobs(ctx context.Context, f MaintenanceJobFilter, p catalog.Page) ([]MaintenanceJob, string, error) {
	var w catsql.Where
	w.Eq("vault_name", f.VaultName)
	return listJobs(ctx, s, maintenanceJobTable, w, jobFilter{state: f.State, states: f.States}, p, scanMaintenanceJob)
}
