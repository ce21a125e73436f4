package jobstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/internal/catsql"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// Jobs and maintenance of one vault keep apart across processes here, in
// the catalog: a process's vault lease (package vaults) only reaches the
// jobs of that process. A claim's check ("no other backup of this bucket
// runs", "no maintenance of this vault runs") and its change are one
// statement, and every claim first takes the catalog's locks
// (catalog.DB.LockKeys) on what it checks: the vault, the bucket.

func vaultKey(name string) string   { return "vault:" + name }
func resourceKey(arn string) string { return "resource:" + arn }

// noMaintenanceRunning is the condition a job's claim adds: no
// maintenance of its vault runs anywhere.
const noMaintenanceRunning = ` AND NOT EXISTS (SELECT 1 FROM maintenance_jobs m WHERE m.vault_name = ? AND m.state = 'RUNNING')`

// noJobRunning is the condition a maintenance claim adds: no backup,
// restore, copy or verification of its vault runs anywhere.
const noJobRunning = ` AND NOT EXISTS (SELECT 1 FROM backup_jobs b WHERE b.vault_name = ? AND b.state IN ('RUNNING', 'ABORTING'))
	AND NOT EXISTS (SELECT 1 FROM restore_jobs r WHERE r.vault_name = ? AND r.status = 'RUNNING')
	AND NOT EXISTS (SELECT 1 FROM copy_jobs c WHERE c.state = 'RUNNING' AND (c.source_vault_name = ? OR c.destination_vault_name = ?))
	AND NOT EXISTS (SELECT 1 FROM verification_jobs v WHERE v.vault_name = ? AND v.state = 'RUNNING')`

// ClaimRestoreJob moves restore job j from PENDING to its new state (with
// its other fields) unless maintenance of its vault runs in any process:
// false then, or if the job is no longer PENDING.
func (s *Store) ClaimRestoreJob(ctx context.Context, j RestoreJob) (bool, error) {
	return s.claimJob(ctx, j.row(), vocab.StatePending, j.VaultName)
}

// claimJob moves job r from state from to its new state (with its other
// fields), if the stored job is still the run r.run, unless maintenance of
// one of vaults runs in any process; it first takes the vaults' catalog
// locks.
func (s *Store) claimJob(ctx context.Context, r jobRow, from vocab.JobState, vaults ...string) (bool, error) {
	q := r.set + ` AND ` + r.stateCol + ` = ? AND run = ?` + strings.Repeat(noMaintenanceRunning, len(vaults))
	keys := make([]string, len(vaults))
	args := slices.Concat(r.values, []any{nil, r.run})
	for i, v := range vaults {
		keys[i] = vaultKey(v)
		args = append(args, v)
	}
	ok, err := s.db.Transition(ctx, r.kind, r.table, r.stateCol, r.id, vocab.JobState(r.state), r.msg,
		[]string{string(from)}, func(tx *sql.Tx, cur string) (sql.Result, error) {
			if err := s.db.LockKeys(ctx, tx, keys...); err != nil {
				return nil, err
			}
			args[len(r.values)] = cur
			return tx.ExecContext(ctx, q, args...)
		}, nil)
	if err != nil {
		return false, fmt.Errorf("claim %s job %s: %w", r.kind, r.id, err)
	}
	return ok, nil
}

// ClaimMaintenanceJob moves maintenance job j from CREATED to RUNNING
// (with its other fields) unless a backup or restore of its vault runs in
// any process: false then, or if the job is no longer CREATED. ErrExists
// if another maintenance of the vault runs.
func (s *Store) ClaimMaintenanceJob(ctx context.Context, j MaintenanceJob) (bool, error) {
	ok, err := s.db.Transition(ctx, vocab.KindMaintenance, "maintenance_jobs", "state", j.ID, vocab.JobState(j.State), j.StatusMessage,
		[]string{string(vocab.StateCreated)}, func(tx *sql.Tx, cur string) (sql.Result, error) {
			if err := s.db.LockKeys(ctx, tx, vaultKey(j.VaultName)); err != nil {
				return nil, err
			}
			return tx.ExecContext(ctx, maintenanceJobSet+` AND state = ? AND run = ?`+noJobRunning, j.State, j.StatusMessage,
				catsql.ToNanos(j.StartedAt), catsql.ToNanos(j.CompletedAt), j.Owner, j.Run, catsql.NonEmpty(j.Stats, "{}"), j.ID, cur, j.Run, j.VaultName, j.VaultName, j.VaultName, j.VaultName, j.VaultName)
		}, nil)
	if catalog.IsUniqueViolation(err) {
		return false, fmt.Errorf("maintenance job %s of vault %q: another one runs: %w", j.ID, j.VaultName, catalog.ErrExists)
	}
	if err != nil {
		return false, fmt.Errorf("claim maintenance job %s: %w", j.ID, err)
	}
	return ok, nil
}

// MaintenanceRunning reports whether maintenance of vault name runs in
// any process.
func (s *Store) MaintenanceRunning(ctx context.Context, name string) (bool, error) {
	var n int
	if err := s.db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM maintenance_jobs WHERE vault_name = ? AND state = 'RUNNING'`, name).Scan(&n); err != nil {
		return false, fmt.Errorf("maintenance of vault %q: %w", name, err)
	}
	return n > 0, nil
}
