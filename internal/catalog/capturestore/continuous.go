package capturestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/internal/catsql"
)

// Protection is the capture state of one continuous recovery point (one
// bucket of one connection into one vault, from one plan rule).
type Protection struct {
	RPARN, RPID, VaultName, Connection, Bucket, ResourceARN string
	PlanID, RuleID                                          string
	// State is CREATING (until the initial scan ends), AVAILABLE or
	// STOPPED, with StatusMessage; the recovery point shows the same.
	State, StatusMessage string
	DeleteAfterDays      int64
	Options              map[string]string // backup options of the plan (BackupACLs, BackupObjectTags)
	CreatedAt            time.Time
	// LastScanStart is the start of the last complete reconciliation
	// scan; NextScanAt when the next is due; CoveredAt the covered time.
	LastScanStart, NextScanAt, CoveredAt time.Time
	// JobID is the capture job queued or running ("" none), in JobMode,
	// queued at JobQueuedAt; JobSeq numbers the protection's jobs.
	JobID, JobMode string
	JobQueuedAt    time.Time
	JobSeq         int64
	// Failures counts the capture jobs failed in a row, LastError the last.
	Failures  int64
	LastError string
}

const protectionCols = `rp_arn, rp_id, vault_name, connection, bucket, resource_arn, plan_id, rule_id, state, status_message,
	delete_after_days, options, created_at, last_scan_start, next_scan_at, covered_at, job_id, job_mode, job_queued_at, job_seq,
	failures, last_error`

func scanProtection(s catsql.Scanner) (Protection, error) {
	var p Protection
	var opts string
	var created, last, next, covered, queued int64
	err := s.Scan(&p.RPARN, &p.RPID, &p.VaultName, &p.Connection, &p.Bucket, &p.ResourceARN, &p.PlanID, &p.RuleID, &p.State,
		&p.StatusMessage, &p.DeleteAfterDays, &opts, &created, &last, &next, &covered, &p.JobID, &p.JobMode, &queued, &p.JobSeq,
		&p.Failures, &p.LastError)
	p.Options = catsql.FromJSONMap(opts)
	p.CreatedAt, p.LastScanStart, p.NextScanAt = catsql.FromNanos(created), catsql.FromNanos(last), catsql.FromNanos(next)
	p.CoveredAt, p.JobQueuedAt = catsql.FromNanos(covered), catsql.FromNanos(queued)
	return p, err
}

// CreateProtection records a new protection and its continuous recovery
// point rp in one transaction. ErrExists if the (connection, bucket,
// vault) is protected already.
func (s *Store) CreateProtection(ctx context.Context, p Protection, rp catalog.RecoveryPoint) error {
	err := s.db.InTx(ctx, func(tx *catalog.Tx) error {
		_, err := tx.SQL().ExecContext(ctx, `INSERT INTO continuous_protection (`+protectionCols+`) VALUES (`+catsql.Placeholders(22)+`)`,
			p.RPARN, p.RPID, p.VaultName, p.Connection, p.Bucket, p.ResourceARN, p.PlanID, p.RuleID, p.State, p.StatusMessage,
			p.DeleteAfterDays, catsql.MustJSON(p.Options), catsql.ToNanos(p.CreatedAt), catsql.ToNanos(p.LastScanStart), catsql.ToNanos(p.NextScanAt),
			catsql.ToNanos(p.CoveredAt), p.JobID, p.JobMode, catsql.ToNanos(p.JobQueuedAt), p.JobSeq, p.Failures, p.LastError)
		if err != nil {
			return err
		}
		rp.Kind = catalog.KindContinuous
		return catalog.InsertRecoveryPointTx(ctx, tx.SQL(), rp)
	})
	if catalog.IsUniqueViolation(err) {
		return fmt.Errorf("continuous protection of bucket %q into vault %q: %w", p.Bucket, p.VaultName, catalog.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("create continuous protection %q: %w", p.RPARN, err)
	}
	return nil
}

// Protection returns one protection by its recovery point's ARN.
func (s *Store) Protection(ctx context.Context, rpARN string) (Protection, error) {
	p, err := scanProtection(s.db.SQL().QueryRowContext(ctx, `SELECT `+protectionCols+` FROM continuous_protection WHERE rp_arn = ?`, rpARN))
	if errors.Is(err, sql.ErrNoRows) {
		return Protection{}, fmt.Errorf("continuous protection %q: %w", rpARN, catalog.ErrNotFound)
	}
	if err != nil {
		return Protection{}, fmt.Errorf("read continuous protection %q: %w", rpARN, err)
	}
	return p, nil
}

// Protections returns every protection, oldest first.
func (s *Store) Protections(ctx context.Context) ([]Protection, error) {
	rows, err := s.db.SQL().QueryContext(ctx, `SELECT `+protectionCols+` FROM continuous_protection ORDER BY created_at, rp_arn`)
	if err != nil {
		return nil, fmt.Errorf("list continuous protections: %w", err)
	}
	defer rows.Close()
	var out []Protection
	for rows.Next() {
		p, err := scanProtection(rows)
		if err != nil {
			return nil, fmt.Errorf("list continuous protections: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list continuous protections: %w", err)
	}
	return out, nil
}

// QueueCapture records job jobID (mode) as the protection's one capture
// job and runs then (the River insert) in the same transaction, only if
// no job is recorded; it reports whether it did.
func (s *Store) QueueCapture(ctx context.Context, rpARN, jobID, mode string, at time.Time, then catalog.TxFunc) (bool, error) {
	queued := false
	err := s.db.InTx(ctx, func(tx *catalog.Tx) error {
		res, err := tx.SQL().ExecContext(ctx, `UPDATE continuous_protection SET job_id = ?, job_mode = ?, job_queued_at = ?,
			job_seq = job_seq + 1 WHERE rp_arn = ? AND job_id = ''`, jobID, mode, catsql.ToNanos(at), rpARN)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		queued = true
		return then.Run(tx)
	})
	if err != nil {
		return false, fmt.Errorf("queue capture of %q: %w", rpARN, err)
	}
	return queued, nil
}

// ClearCapture forgets capture job jobID of the protection (it ended, or
// its River job is lost) and reports whether it was the recorded one.
func (s *Store) ClearCapture(ctx context.Context, rpARN, jobID string) (bool, error) {
	res, err := s.db.SQL().ExecContext(ctx, `UPDATE continuous_protection SET job_id = '', job_mode = '' WHERE rp_arn = ? AND job_id = ?`, rpARN, jobID)
	if err != nil {
		return false, fmt.Errorf("clear capture job of %q: %w", rpARN, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// UpdateProtection stores the mutable fields of p (state, times, errors;
// not its job, which QueueCapture and ClearCapture own) and the matching
// fields of its recovery point, in one transaction.
func (s *Store) UpdateProtection(ctx context.Context, p Protection, earliest time.Time, size, objects int64) error {
	err := s.db.InTx(ctx, func(tx *catalog.Tx) error {
		_, err := tx.SQL().ExecContext(ctx, `UPDATE continuous_protection SET state = ?, status_message = ?, plan_id = ?, rule_id = ?,
			delete_after_days = ?, options = ?, last_scan_start = ?, next_scan_at = ?, covered_at = ?, failures = ?, last_error = ?
			WHERE rp_arn = ?`,
			p.State, p.StatusMessage, p.PlanID, p.RuleID, p.DeleteAfterDays, catsql.MustJSON(p.Options), catsql.ToNanos(p.LastScanStart),
			catsql.ToNanos(p.NextScanAt), catsql.ToNanos(p.CoveredAt), p.Failures, p.LastError, p.RPARN)
		if err != nil {
			return err
		}
		_, err = tx.SQL().ExecContext(ctx, `UPDATE recovery_points SET status = ?, status_message = ?, earliest_restorable = ?,
			latest_restorable = ?, completed_at = ?, size_bytes = ?, object_count = ? WHERE arn = ?`,
			p.State, p.StatusMessage, catsql.ToNanos(earliest), catsql.ToNanos(p.CoveredAt), catsql.ToNanos(p.LastScanStart), size, objects, p.RPARN)
		return err
	})
	if err != nil {
		return fmt.Errorf("update continuous protection %q: %w", p.RPARN, err)
	}
	return nil
}

// DeleteProtection forgets a protection (its recovery point was deleted).
func (s *Store) DeleteProtection(ctx context.Context, rpARN string) error {
	if _, err := s.db.SQL().ExecContext(ctx, `DELETE FROM continuous_protection WHERE rp_arn = ?`, rpARN); err != nil {
		return fmt.Errorf("delete continuous protection %q: %w", rpARN, err)
	}
	return nil
}
