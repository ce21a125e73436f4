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

// BackupJob is one backup job.
type BackupJob struct {
	ID                string
	VaultName         string
	VaultARN          string
	ResourceARN       string
	ResourceType      string
	State             string
	StatusMessage     string
	RecoveryPointARN  string
	IdempotencyToken  string
	IAMRoleARN        string
	BackupOptions     map[string]string
	DeleteAfterDays   int64
	RecoveryPointTags map[string]string
	CreatedAt         time.Time
	StartedAt         time.Time
	CompletedAt       time.Time
	StartBy           time.Time
	PercentDone       string
	BytesTransferred  int64
	BackupSize        int64
	Stats             string // JSON object of engine counters
	// PlanID, PlanVersion and RuleID name the plan rule that created the
	// job; empty for on-demand jobs.
	PlanID, PlanVersion, RuleID string
	// CompleteBy ends the completion window (zero: none).
	CompleteBy time.Time
	// Owner is the process that claimed the job; Run counts the times a
	// live process took it over after its owner died.
	Owner string
	Run   int
}

const backupJobCols = `id, vault_name, vault_arn, resource_arn, resource_type, state, status_message, recovery_point_arn,
	idempotency_token, iam_role_arn, backup_options, delete_after_days, recovery_point_tags, created_at, started_at,
	completed_at, start_by, percent_done, bytes_transferred, backup_size, stats, plan_id, plan_version, rule_id, complete_by, owner, run`

func scanBackupJob(s catsql.Scanner) (BackupJob, error) {
	var j BackupJob
	var opts, tags string
	var created, started, completed, startBy, completeBy int64
	err := s.Scan(&j.ID, &j.VaultName, &j.VaultARN, &j.ResourceARN, &j.ResourceType, &j.State, &j.StatusMessage, &j.RecoveryPointARN,
		&j.IdempotencyToken, &j.IAMRoleARN, &opts, &j.DeleteAfterDays, &tags, &created, &started,
		&completed, &startBy, &j.PercentDone, &j.BytesTransferred, &j.BackupSize, &j.Stats, &j.PlanID, &j.PlanVersion, &j.RuleID, &completeBy, &j.Owner, &j.Run)
	j.BackupOptions, j.RecoveryPointTags = catsql.FromJSONMap(opts), catsql.FromJSONMap(tags)
	j.CreatedAt, j.StartedAt, j.CompletedAt, j.StartBy = catsql.FromNanos(created), catsql.FromNanos(started), catsql.FromNanos(completed), catsql.FromNanos(startBy)
	j.CompleteBy = catsql.FromNanos(completeBy)
	return j, err
}

func (j BackupJob) values() []any {
	stats := j.Stats
	if stats == "" {
		stats = "{}"
	}
	return []any{j.ID, j.VaultName, j.VaultARN, j.ResourceARN, j.ResourceType, j.State, j.StatusMessage, j.RecoveryPointARN,
		j.IdempotencyToken, j.IAMRoleARN, catsql.MustJSON(j.BackupOptions), j.DeleteAfterDays, catsql.MustJSON(j.RecoveryPointTags),
		catsql.ToNanos(j.CreatedAt), catsql.ToNanos(j.StartedAt), catsql.ToNanos(j.CompletedAt), catsql.ToNanos(j.StartBy), j.PercentDone,
		j.BytesTransferred, j.BackupSize, stats, j.PlanID, j.PlanVersion, j.RuleID, catsql.ToNanos(j.CompleteBy), j.Owner, j.Run}
}

// InsertBackupJob records a new job, and runs then (if not nil) in the
// same transaction: work queued there exists only if the job does.
// ErrExists if the job's IdempotencyToken is taken.
func (s *Store) InsertBackupJob(ctx context.Context, j BackupJob, then catalog.TxFunc) error {
	err := s.insert(ctx, vocab.KindBackup, `INSERT INTO backup_jobs (`+backupJobCols+`) VALUES (`+catsql.Placeholders(27)+`)`, j.values(), j.ID, j.State, j.StatusMessage, then)
	if catalog.IsUniqueViolation(err) {
		return fmt.Errorf("backup job with idempotency token %q: %w", j.IdempotencyToken, catalog.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("insert backup job %s: %w", j.ID, err)
	}
	return nil
}

const backupJobSet = `UPDATE backup_jobs SET state = ?, status_message = ?, recovery_point_arn = ?,
	started_at = ?, completed_at = ?, percent_done = ?, bytes_transferred = ?, backup_size = ?, stats = ?, owner = ?, run = ? WHERE id = ?`

func (j BackupJob) row() jobRow {
	return jobRow{kind: vocab.KindBackup, table: "backup_jobs", stateCol: "state", set: backupJobSet, values: j.mutable(),
		id: j.ID, state: j.State, msg: j.StatusMessage, owner: j.Owner, run: j.Run}
}

func (j BackupJob) mutable() []any {
	return []any{j.State, j.StatusMessage, j.RecoveryPointARN, catsql.ToNanos(j.StartedAt), catsql.ToNanos(j.CompletedAt), j.PercentDone,
		j.BytesTransferred, j.BackupSize, catsql.NonEmpty(j.Stats, "{}"), j.Owner, j.Run, j.ID}
}

// TransitionBackupJob stores every mutable field of j only if the stored
// state is one of from, and reports whether it did: a state change can
// never overwrite a concurrent one (StopBackupJob racing a job's end).
func (s *Store) TransitionBackupJob(ctx context.Context, j BackupJob, from ...string) (bool, error) {
	return s.TransitionBackupJobTx(ctx, j, nil, from...)
}

// TransitionBackupJobTx is TransitionBackupJob that also runs then in the
// transaction of the change (work queued there exists only if the change
// does).
func (s *Store) TransitionBackupJobTx(ctx context.Context, j BackupJob, then catalog.TxFunc, from ...string) (bool, error) {
	return s.transition(ctx, j.row(), false, then, from)
}

// TransitionOwnBackupJob is TransitionBackupJob for the process that runs
// the job: it changes nothing (false) unless the stored job is still the
// run j.Run claimed by j.Owner. A process that lost the database long
// enough for another to take its job over can then never overwrite the
// newer run's state.
func (s *Store) TransitionOwnBackupJob(ctx context.Context, j BackupJob, from ...string) (bool, error) {
	return s.transition(ctx, j.row(), true, nil, from)
}

// ClaimBackupJob is TransitionBackupJob that also requires that no other
// job of the same resource is in one of the states busy: the check and the
// change are one statement, so two jobs of a bucket never both pass.
func (s *Store) ClaimBackupJob(ctx context.Context, j BackupJob, from, busy []string) (bool, error) {
	other := &catsql.Where{}
	other.In("o.state", busy)
	// run = j.Run: a handler of an earlier run (the job was taken over
	// while it looked at it) must not claim the newer one.
	// No maintenance of the vault may run either, in any process (see
	// vaultbusy.go).
	q := backupJobSet + ` AND state = ? AND run = ? AND NOT EXISTS (SELECT 1 FROM backup_jobs o WHERE o.resource_arn = ? AND o.id <> ?` +
		other.And() + `)` + noMaintenanceRunning
	ok, err := s.db.Transition(ctx, vocab.KindBackup, "backup_jobs", "state", j.ID, vocab.JobState(j.State), j.StatusMessage, from,
		func(tx *sql.Tx, cur string) (sql.Result, error) {
			if err := s.db.LockKeys(ctx, tx, vaultKey(j.VaultName), resourceKey(j.ResourceARN)); err != nil {
				return nil, err
			}
			args := append(append(j.mutable(), cur, j.Run, j.ResourceARN, j.ID), other.Args...)
			return tx.ExecContext(ctx, q, append(args, j.VaultName)...)
		}, nil)
	if err != nil {
		return false, fmt.Errorf("claim backup job %s: %w", j.ID, err)
	}
	return ok, nil
}

// UpdateBackupJobProgress stores only the progress fields of j, so that a
// concurrent state change (StopBackupJob) is not overwritten, and only
// while the job is still the run j.Run of j.Owner.
func (s *Store) UpdateBackupJobProgress(ctx context.Context, j BackupJob) error {
	_, err := s.db.SQL().ExecContext(ctx, `UPDATE backup_jobs SET percent_done = ?, bytes_transferred = ?, backup_size = ?, stats = ?
		WHERE id = ? AND owner = ? AND run = ?`, j.PercentDone, j.BytesTransferred, j.BackupSize, catsql.NonEmpty(j.Stats, "{}"), j.ID, j.Owner, j.Run)
	if err != nil {
		return fmt.Errorf("update backup job %s progress: %w", j.ID, err)
	}
	return nil
}

// BackupJob returns one job; ErrNotFound if absent.
func (s *Store) BackupJob(ctx context.Context, id string) (BackupJob, error) {
	j, err := scanBackupJob(s.db.SQL().QueryRowContext(ctx, `SELECT `+backupJobCols+` FROM backup_jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return BackupJob{}, fmt.Errorf("backup job %q: %w", id, catalog.ErrNotFound)
	}
	if err != nil {
		return BackupJob{}, fmt.Errorf("read backup job %q: %w", id, err)
	}
	return j, nil
}

// BackupJobFilter narrows ListBackupJobs; zero fields match everything.
type BackupJobFilter struct {
	ResourceARN, State, VaultName, ResourceType, IdempotencyToken string
	States                                                        []string
	CreatedAfter, CreatedBefore, CompleteAfter, CompleteBefore    time.Time
}

// ListBackupJobs returns jobs newest first.
func (s *Store) ListBackupJobs(ctx context.Context, f BackupJobFilter, p catalog.Page) ([]BackupJob, string, error) {
	var w catsql.Where
	w.Eq("resource_arn", f.ResourceARN)
	w.Eq("vault_name", f.VaultName)
	w.Eq("resource_type", f.ResourceType)
	w.Eq("idempotency_token", f.IdempotencyToken)
	return listJobs(ctx, s, backupJobTable, w, jobFilter{state: f.State, states: f.States, createdAfter: f.CreatedAfter,
		createdBefore: f.CreatedBefore, completeAfter: f.CompleteAfter, completeBefore: f.CompleteBefore}, p, scanBackupJob)
}

// RestoreJob is one restore job.
type RestoreJob struct {
	ID                     string
	RecoveryPointARN       string
	VaultName              string
	VaultARN               string
	SourceResourceARN      string
	ResourceType           string
	Status                 string
	StatusMessage          string
	IdempotencyToken       string
	IAMRoleARN             string
	Metadata               map[string]string
	CreatedResourceARN     string
	RecoveryPointCreatedAt time.Time
	CreatedAt              time.Time
	CompletedAt            time.Time
	PercentDone            string
	BytesRestored          int64
	BackupSize             int64
	Stats                  string
	Owner                  string // the process that claimed the job
	Run                    int    // times a live process took it over
}

const restoreJobCols = `id, recovery_point_arn, vault_name, vault_arn, source_resource_arn, resource_type, status, status_message,
	idempotency_token, iam_role_arn, metadata, created_resource_arn, recovery_point_created_at, created_at, completed_at,
	percent_done, bytes_restored, backup_size, stats, owner, run`

func scanRestoreJob(s catsql.Scanner) (RestoreJob, error) {
	var j RestoreJob
	var meta string
	var rpCreated, created, completed int64
	err := s.Scan(&j.ID, &j.RecoveryPointARN, &j.VaultName, &j.VaultARN, &j.SourceResourceARN, &j.ResourceType, &j.Status, &j.StatusMessage,
		&j.IdempotencyToken, &j.IAMRoleARN, &meta, &j.CreatedResourceARN, &rpCreated, &created, &completed,
		&j.PercentDone, &j.BytesRestored, &j.BackupSize, &j.Stats, &j.Owner, &j.Run)
	j.Metadata = catsql.FromJSONMap(meta)
	j.RecoveryPointCreatedAt, j.CreatedAt, j.CompletedAt = catsql.FromNanos(rpCreated), catsql.FromNanos(created), catsql.FromNanos(completed)
	return j, err
}

// InsertRestoreJob records a new restore job and runs then (if not nil)
// in the same transaction. ErrExists if its IdempotencyToken is taken.
func (s *Store) InsertRestoreJob(ctx context.Context, j RestoreJob, then catalog.TxFunc) error {
	err := s.insert(ctx, vocab.KindRestore, `INSERT INTO restore_jobs (`+restoreJobCols+`) VALUES (`+catsql.Placeholders(21)+`)`, []any{
		j.ID, j.RecoveryPointARN, j.VaultName, j.VaultARN, j.SourceResourceARN, j.ResourceType, j.Status, j.StatusMessage,
		j.IdempotencyToken, j.IAMRoleARN, catsql.MustJSON(j.Metadata), j.CreatedResourceARN, catsql.ToNanos(j.RecoveryPointCreatedAt),
		catsql.ToNanos(j.CreatedAt), catsql.ToNanos(j.CompletedAt), j.PercentDone, j.BytesRestored, j.BackupSize, catsql.NonEmpty(j.Stats, "{}"), j.Owner, j.Run},
		j.ID, j.Status, j.StatusMessage, then)
	if catalog.IsUniqueViolation(err) {
		return fmt.Errorf("restore job with idempotency token %q: %w", j.IdempotencyToken, catalog.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("insert restore job %s: %w", j.ID, err)
	}
	return nil
}

const restoreJobSet = `UPDATE restore_jobs SET status = ?, status_message = ?, created_resource_arn = ?,
	completed_at = ?, percent_done = ?, bytes_restored = ?, backup_size = ?, stats = ?, owner = ?, run = ? WHERE id = ?`

func (j RestoreJob) row() jobRow {
	return jobRow{kind: vocab.KindRestore, table: "restore_jobs", stateCol: "status", set: restoreJobSet, values: j.mutable(),
		id: j.ID, state: j.Status, msg: j.StatusMessage, owner: j.Owner, run: j.Run}
}

func (j RestoreJob) mutable() []any {
	return []any{j.Status, j.StatusMessage, j.CreatedResourceARN, catsql.ToNanos(j.CompletedAt), j.PercentDone, j.BytesRestored,
		j.BackupSize, catsql.NonEmpty(j.Stats, "{}"), j.Owner, j.Run, j.ID}
}

// TransitionRestoreJob stores every mutable field of j only if the stored
// status is one of from, and reports whether it did.
func (s *Store) TransitionRestoreJob(ctx context.Context, j RestoreJob, from ...string) (bool, error) {
	return s.TransitionRestoreJobTx(ctx, j, nil, from...)
}

// TransitionRestoreJobTx is TransitionRestoreJob that also runs then in
// the transaction of the change.
func (s *Store) TransitionRestoreJobTx(ctx context.Context, j RestoreJob, then catalog.TxFunc, from ...string) (bool, error) {
	return s.transition(ctx, j.row(), false, then, from)
}

// TransitionOwnRestoreJob is TransitionRestoreJob for the process that
// runs the job: it changes nothing unless the stored job is still the run
// j.Run claimed by j.Owner (see TransitionOwnBackupJob).
func (s *Store) TransitionOwnRestoreJob(ctx context.Context, j RestoreJob, from ...string) (bool, error) {
	return s.transition(ctx, j.row(), true, nil, from)
}

// RestoreJob returns one restore job; ErrNotFound if absent.
func (s *Store) RestoreJob(ctx context.Context, id string) (RestoreJob, error) {
	j, err := scanRestoreJob(s.db.SQL().QueryRowContext(ctx, `SELECT `+restoreJobCols+` FROM restore_jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return RestoreJob{}, fmt.Errorf("restore job %q: %w", id, catalog.ErrNotFound)
	}
	if err != nil {
		return RestoreJob{}, fmt.Errorf("read restore job %q: %w", id, err)
	}
	return j, nil
}

// RestoreJobFilter narrows ListRestoreJobs.
type RestoreJobFilter struct {
	ResourceType, Status, IdempotencyToken                     string
	Statuses                                                   []string
	CreatedAfter, CreatedBefore, CompleteAfter, CompleteBefore time.Time
}

// ListRestoreJobs returns restore jobs newest first.
func (s *Store) ListRestoreJobs(ctx context.Context, f RestoreJobFilter, p catalog.Page) ([]RestoreJob, string, error) {
	var w catsql.Where
	w.Eq("resource_type", f.ResourceType)
	w.Eq("idempotency_token", f.IdempotencyToken)
	return listJobs(ctx, s, restoreJobTable, w, jobFilter{state: f.Status, states: f.Statuses, createdAfter: f.CreatedAfter,
		createdBefore: f.CreatedBefore, completeAfter: f.CompleteAfter, completeBefore: f.CompleteBefore}, p, scanRestoreJob)
}
