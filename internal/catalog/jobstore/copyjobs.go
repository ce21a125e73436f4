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

// CopyJob is one copy job: recovery point SourceRecoveryPointARN of
// vault SourceVaultName copied into DestinationVaultName as
// DestinationRecoveryPointARN.
type CopyJob struct {
	ID                          string
	SourceVaultName             string
	SourceVaultARN              string
	SourceRecoveryPointARN      string
	DestinationVaultName        string
	DestinationVaultARN         string
	DestinationRecoveryPointARN string
	ResourceARN                 string
	ResourceType                string
	State                       string
	StatusMessage               string
	IdempotencyToken            string
	IAMRoleARN                  string
	DeleteAfterDays             int64
	MoveToColdAfterDays         int64
	CreatedAt                   time.Time
	StartedAt                   time.Time
	CompletedAt                 time.Time
	BackupSize                  int64
	BytesTransferred            int64 // read from the source vault
	Stats                       string
	// CreatedByBackupJobID, PlanID, PlanVersion and RuleID name the plan
	// rule's backup that queued the copy; empty for StartCopyJob.
	CreatedByBackupJobID, PlanID, PlanVersion, RuleID string
	Owner                                             string
	Run                                               int
}

const copyJobCols = `id, source_vault_name, source_vault_arn, source_recovery_point_arn, destination_vault_name,
	destination_vault_arn, destination_recovery_point_arn, resource_arn, resource_type, state, status_message,
	idempotency_token, iam_role_arn, delete_after_days, move_to_cold_after_days, created_at, started_at, completed_at,
	backup_size, bytes_transferred, stats, created_by_backup_job_id, plan_id, plan_version, rule_id, owner, run`

func scanCopyJob(s catsql.Scanner) (CopyJob, error) {
	var j CopyJob
	var created, started, completed int64
	err := s.Scan(&j.ID, &j.SourceVaultName, &j.SourceVaultARN, &j.SourceRecoveryPointARN, &j.DestinationVaultName,
		&j.DestinationVaultARN, &j.DestinationRecoveryPointARN, &j.ResourceARN, &j.ResourceType, &j.State, &j.StatusMessage,
		&j.IdempotencyToken, &j.IAMRoleARN, &j.DeleteAfterDays, &j.MoveToColdAfterDays, &created, &started, &completed,
		&j.BackupSize, &j.BytesTransferred, &j.Stats, &j.CreatedByBackupJobID, &j.PlanID, &j.PlanVersion, &j.RuleID, &j.Owner, &j.Run)
	j.CreatedAt, j.StartedAt, j.CompletedAt = catsql.FromNanos(created), catsql.FromNanos(started), catsql.FromNanos(completed)
	return j, err
}

// InsertCopyJob records a new copy job and runs then (if not nil) in the
// same transaction. ErrExists if its IdempotencyToken is taken.
func (s *Store) InsertCopyJob(ctx context.Context, j CopyJob, then catalog.TxFunc) error {
	err := s.insert(ctx, vocab.KindCopy, `INSERT INTO copy_jobs (`+copyJobCols+`) VALUES (`+catsql.Placeholders(27)+`)`, []any{
		j.ID, j.SourceVaultName, j.SourceVaultARN, j.SourceRecoveryPointARN, j.DestinationVaultName,
		j.DestinationVaultARN, j.DestinationRecoveryPointARN, j.ResourceARN, j.ResourceType, j.State, j.StatusMessage,
		j.IdempotencyToken, j.IAMRoleARN, j.DeleteAfterDays, j.MoveToColdAfterDays, catsql.ToNanos(j.CreatedAt), catsql.ToNanos(j.StartedAt),
		catsql.ToNanos(j.CompletedAt), j.BackupSize, j.BytesTransferred, catsql.NonEmpty(j.Stats, "{}"), j.CreatedByBackupJobID,
		j.PlanID, j.PlanVersion, j.RuleID, j.Owner, j.Run},
		j.ID, j.State, j.StatusMessage, then)
	if catalog.IsUniqueViolation(err) {
		return fmt.Errorf("copy job with idempotency token %q: %w", j.IdempotencyToken, catalog.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("insert copy job %s: %w", j.ID, err)
	}
	return nil
}

const copyJobSet = `UPDATE copy_jobs SET state = ?, status_message = ?, started_at = ?, completed_at = ?,
	backup_size = ?, bytes_transferred = ?, stats = ?, owner = ?, run = ? WHERE id = ?`

func (j CopyJob) row() jobRow {
	return jobRow{kind: vocab.KindCopy, table: "copy_jobs", stateCol: "state", set: copyJobSet, values: j.mutable(),
		id: j.ID, state: j.State, msg: j.StatusMessage, owner: j.Owner, run: j.Run}
}

func (j CopyJob) mutable() []any {
	return []any{j.State, j.StatusMessage, catsql.ToNanos(j.StartedAt), catsql.ToNanos(j.CompletedAt), j.BackupSize,
		j.BytesTransferred, catsql.NonEmpty(j.Stats, "{}"), j.Owner, j.Run, j.ID}
}

// TransitionCopyJob stores every mutable field of j only if the stored
// state is one of from, and reports whether it did.
func (s *Store) TransitionCopyJob(ctx context.Context, j CopyJob, from ...string) (bool, error) {
	return s.TransitionCopyJobTx(ctx, j, nil, from...)
}

// TransitionCopyJobTx is TransitionCopyJob that also runs then in the
// transaction of the change.
func (s *Store) TransitionCopyJobTx(ctx context.Context, j CopyJob, then catalog.TxFunc, from ...string) (bool, error) {
	return s.transition(ctx, j.row(), false, then, from)
}

// TransitionOwnCopyJob is TransitionCopyJob for the process that runs the
// job: it changes nothing unless the stored job is still the run j.Run
// claimed by j.Owner.
func (s *Store) TransitionOwnCopyJob(ctx context.Context, j CopyJob, from ...string) (bool, error) {
	return s.transition(ctx, j.row(), true, nil, from)
}

// ClaimCopyJob moves copy job j from CREATED to its new state (with its
// other fields) unless maintenance of its source or destination vault
// runs in any process: false then, or if the job is no longer CREATED.
func (s *Store) ClaimCopyJob(ctx context.Context, j CopyJob) (bool, error) {
	return s.claimJob(ctx, j.row(), vocab.StateCreated, j.SourceVaultName, j.DestinationVaultName)
}

// CopyJob returns one copy job; ErrNotFound if absent.
func (s *Store) CopyJob(ctx context.Context, id string) (CopyJob, error) {
	j, err := scanCopyJob(s.db.SQL().QueryRowContext(ctx, `SELECT `+copyJobCols+` FROM copy_jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return CopyJob{}, fmt.Errorf("copy job %q: %w", id, catalog.ErrNotFound)
	}
	if err != nil {
		return CopyJob{}, fmt.Errorf("read copy job %q: %w", id, err)
	}
	return j, nil
}

// CopyJobFilter narrows ListCopyJobs (ListCopyJobs' By... parameters).
type CopyJobFilter struct {
	ResourceARN, ResourceType, State, DestinationVaultARN, SourceRecoveryPointARN, IdempotencyToken string
	States                                                                                          []string
	CreatedAfter, CreatedBefore, CompleteAfter, CompleteBefore                                      time.Time
}

// ListCopyJobs returns copy jobs newest first.
func (s *Store) ListCopyJobs(ctx context.Context, f CopyJobFilter, p catalog.Page) ([]CopyJob, string, error) {
	var w catsql.Where
	w.Eq("resource_arn", f.ResourceARN)
	w.Eq("resource_type", f.ResourceType)
	w.Eq("destination_vault_arn", f.DestinationVaultARN)
	w.Eq("source_recovery_point_arn", f.SourceRecoveryPointARN)
	w.Eq("idempotency_token", f.IdempotencyToken)
	return listJobs(ctx, s, copyJobTable, w, jobFilter{state: f.State, states: f.States, createdAfter: f.CreatedAfter,
		createdBefore: f.CreatedBefore, completeAfter: f.CompleteAfter, completeBefore: f.CompleteBefore}, p, scanCopyJob)
}
