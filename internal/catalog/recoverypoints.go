package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog/internal/catsql"
)

// RecoveryPoint indexes one recovery point of a vault.
type RecoveryPoint struct {
	ARN             string
	ID              string
	VaultName       string
	ResourceARN     string
	ResourceType    string
	BackupJobID     string
	Status          string
	StatusMessage   string
	CreatedAt       time.Time
	CompletedAt     time.Time
	DeleteAfterDays int64
	DeleteAt        time.Time // zero: kept until deleted
	SizeBytes       int64
	ObjectCount     int64
	Tags            map[string]string
	// PlanID, PlanVersion and RuleID name the plan rule whose job made the
	// recovery point (read from that job; empty for on-demand backups).
	PlanID, PlanVersion, RuleID string
	// Kind is KindPeriodic ("" reads as it) or KindContinuous; a
	// continuous one has its restorable window (zero while unknown).
	Kind                                 string
	EarliestRestorable, LatestRestorable time.Time
	// SourceBackupVaultARN is the vault a copy was copied from; empty
	// for backups.
	SourceBackupVaultARN string
}

// Recovery point kinds.
const (
	KindPeriodic   = "periodic"
	KindContinuous = "continuous"
)

const rpCols = `arn, id, vault_name, resource_arn, resource_type, backup_job_id, status, status_message,
	created_at, completed_at, delete_after_days, delete_at, size_bytes, object_count, tags,
	kind, earliest_restorable, latest_restorable, source_backup_vault_arn`

// rpSelect is what queries of recovery points select: rpCols and the plan
// rule of the job that made each one (backup_job_id names no column of
// backup_jobs, so it refers to the recovery point).
const rpSelect = rpCols + `,
	COALESCE((SELECT plan_id FROM backup_jobs WHERE id = backup_job_id), ''),
	COALESCE((SELECT plan_version FROM backup_jobs WHERE id = backup_job_id), ''),
	COALESCE((SELECT rule_id FROM backup_jobs WHERE id = backup_job_id), '')`

func scanRP(s catsql.Scanner) (RecoveryPoint, error) {
	var r RecoveryPoint
	var created, completed, deleteAt, earliest, latest int64
	var tags string
	err := s.Scan(&r.ARN, &r.ID, &r.VaultName, &r.ResourceARN, &r.ResourceType, &r.BackupJobID, &r.Status, &r.StatusMessage,
		&created, &completed, &r.DeleteAfterDays, &deleteAt, &r.SizeBytes, &r.ObjectCount, &tags,
		&r.Kind, &earliest, &latest, &r.SourceBackupVaultARN, &r.PlanID, &r.PlanVersion, &r.RuleID)
	r.CreatedAt, r.CompletedAt, r.DeleteAt = catsql.FromNanos(created), catsql.FromNanos(completed), catsql.FromNanos(deleteAt)
	r.EarliestRestorable, r.LatestRestorable = catsql.FromNanos(earliest), catsql.FromNanos(latest)
	r.Tags = catsql.FromJSONMap(tags)
	return r, err
}

// notHeld is the condition on recovery_points rows that no active hold
// holds them.
const notHeld = `NOT EXISTS (SELECT 1 FROM legal_hold_points p JOIN legal_holds h ON h.id = p.hold_id
	WHERE p.rp_arn = recovery_points.arn AND h.status = 'ACTIVE')`

// PutRecoveryPoint inserts r, or replaces the entry with the same ARN.
func (c *DB) PutRecoveryPoint(ctx context.Context, r RecoveryPoint) error {
	_, err := c.db.ExecContext(ctx, `INSERT INTO recovery_points (`+rpCols+`) VALUES (`+catsql.Placeholders(19)+`)
		ON CONFLICT (arn) DO UPDATE SET status = excluded.status, status_message = excluded.status_message,
		completed_at = excluded.completed_at, size_bytes = excluded.size_bytes, object_count = excluded.object_count,
		earliest_restorable = excluded.earliest_restorable, latest_restorable = excluded.latest_restorable`,
		r.ARN, r.ID, r.VaultName, r.ResourceARN, r.ResourceType, r.BackupJobID, r.Status, r.StatusMessage,
		catsql.ToNanos(r.CreatedAt), catsql.ToNanos(r.CompletedAt), r.DeleteAfterDays, catsql.ToNanos(r.DeleteAt), r.SizeBytes, r.ObjectCount, catsql.MustJSON(r.Tags),
		catsql.NonEmpty(r.Kind, KindPeriodic), catsql.ToNanos(r.EarliestRestorable), catsql.ToNanos(r.LatestRestorable), r.SourceBackupVaultARN)
	if err != nil {
		return fmt.Errorf("insert recovery point %q: %w", r.ARN, err)
	}
	return nil
}

// InsertRecoveryPointTx inserts r in tx as it is (an ARN taken fails:
// no replace), for a store that records a recovery point together with
// rows of its own (capturestore's protections).
func InsertRecoveryPointTx(ctx context.Context, tx *sql.Tx, r RecoveryPoint) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO recovery_points (`+rpCols+`) VALUES (`+catsql.Placeholders(19)+`)`,
		r.ARN, r.ID, r.VaultName, r.ResourceARN, r.ResourceType, r.BackupJobID, r.Status, r.StatusMessage,
		catsql.ToNanos(r.CreatedAt), catsql.ToNanos(r.CompletedAt), r.DeleteAfterDays, catsql.ToNanos(r.DeleteAt), r.SizeBytes, r.ObjectCount,
		catsql.MustJSON(r.Tags), r.Kind, catsql.ToNanos(r.EarliestRestorable), catsql.ToNanos(r.LatestRestorable), r.SourceBackupVaultARN)
	return err
}

// RecoveryPoint returns one recovery point of a vault; ErrNotFound if absent.
func (c *DB) RecoveryPoint(ctx context.Context, vault, arn string) (RecoveryPoint, error) {
	r, err := scanRP(c.db.QueryRowContext(ctx, `SELECT `+rpSelect+` FROM recovery_points WHERE vault_name = ? AND arn = ?`, vault, arn))
	if errors.Is(err, sql.ErrNoRows) {
		return RecoveryPoint{}, fmt.Errorf("recovery point %q in vault %q: %w", arn, vault, ErrNotFound)
	}
	if err != nil {
		return RecoveryPoint{}, fmt.Errorf("read recovery point %q: %w", arn, err)
	}
	return r, nil
}

// RecoveryPointByARN finds a recovery point in any vault.
func (c *DB) RecoveryPointByARN(ctx context.Context, arn string) (RecoveryPoint, error) {
	r, err := scanRP(c.db.QueryRowContext(ctx, `SELECT `+rpSelect+` FROM recovery_points WHERE arn = ?`, arn))
	if errors.Is(err, sql.ErrNoRows) {
		return RecoveryPoint{}, fmt.Errorf("recovery point %q: %w", arn, ErrNotFound)
	}
	if err != nil {
		return RecoveryPoint{}, fmt.Errorf("read recovery point %q: %w", arn, err)
	}
	return r, nil
}

// RecoveryPointFilter narrows ListRecoveryPoints.
type RecoveryPointFilter struct {
	VaultName     string
	ResourceARN   string
	ResourceType  string
	CreatedAfter  time.Time
	CreatedBefore time.Time
	DueBefore     time.Time // delete_at set and before this time
	PlanID        string    // made by a job of this backup plan
	NotHeld       bool      // under no active legal hold
}

// ListRecoveryPoints returns recovery points newest first.
func (c *DB) ListRecoveryPoints(ctx context.Context, f RecoveryPointFilter, p Page) ([]RecoveryPoint, string, error) {
	var w catsql.Where
	w.Eq("vault_name", f.VaultName)
	w.Eq("resource_arn", f.ResourceARN)
	w.Eq("resource_type", f.ResourceType)
	w.TimeRange("created_at", f.CreatedAfter, f.CreatedBefore)
	if f.PlanID != "" {
		w.Add("backup_job_id IN (SELECT id FROM backup_jobs WHERE plan_id = ?)", f.PlanID)
	}
	if !f.DueBefore.IsZero() {
		w.Add("delete_at > 0 AND delete_at <= ?", f.DueBefore.UnixNano())
	}
	if f.NotHeld {
		w.Conds = append(w.Conds, notHeld)
	}
	return QueryPage(ctx, c, "recovery points", `SELECT `+rpSelect+` FROM recovery_points`+w.SQL()+` ORDER BY created_at DESC, arn`, w.Args, p, scanRP)
}

// UpdateRecoveryPointLifecycle sets a recovery point's retention.
func (c *DB) UpdateRecoveryPointLifecycle(ctx context.Context, arn string, days int64, deleteAt time.Time) error {
	res, err := c.db.ExecContext(ctx, `UPDATE recovery_points SET delete_after_days = ?, delete_at = ? WHERE arn = ?`, days, catsql.ToNanos(deleteAt), arn)
	if err != nil {
		return fmt.Errorf("update lifecycle of recovery point %q: %w", arn, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("recovery point %q: %w", arn, ErrNotFound)
	}
	return nil
}

// DeleteRecoveryPoint removes a recovery point's entry.
func (c *DB) DeleteRecoveryPoint(ctx context.Context, arn string) error {
	if _, err := c.db.ExecContext(ctx, `DELETE FROM recovery_points WHERE arn = ?`, arn); err != nil {
		return fmt.Errorf("delete recovery point %q: %w", arn, err)
	}
	return nil
}
