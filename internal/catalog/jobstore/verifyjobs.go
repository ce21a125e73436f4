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

// VerificationJob is one verification job: the integrity check of vault
// VaultName (package verifyjob).
type VerificationJob struct {
	ID              string
	VaultName       string
	VaultARN        string
	State           string
	StatusMessage   string
	ReadDataPercent float64
	Seed            uint64
	CreatedAt       time.Time
	StartedAt       time.Time
	CompletedAt     time.Time
	Owner           string
	Run             int
	// Stats is the JSON of the report's counts, problem kinds and
	// affected recovery point ARNs; Problems the sealed list of problems
	// (empty when none).
	Stats    string
	Problems string
}

const verificationJobCols = `id, vault_name, vault_arn, state, status_message, read_data_percent, seed, created_at,
	started_at, completed_at, owner, run, stats, problems`

func scanVerificationJob(s catsql.Scanner) (VerificationJob, error) {
	var j VerificationJob
	var created, started, completed, seed int64
	err := s.Scan(&j.ID, &j.VaultName, &j.VaultARN, &j.State, &j.StatusMessage, &j.ReadDataPercent, &seed, &created,
		&started, &completed, &j.Owner, &j.Run, &j.Stats, &j.Problems)
	j.Seed = uint64(seed) //nolint:gosec // stored bit for bit
	j.CreatedAt, j.StartedAt, j.CompletedAt = catsql.FromNanos(created), catsql.FromNanos(started), catsql.FromNanos(completed)
	return j, err
}

// InsertVerificationJob records a new verification job and runs then (if
// not nil) in the same transaction.
func (s *Store) InsertVerificationJob(ctx context.Context, j VerificationJob, then catalog.TxFunc) error {
	err := s.insert(ctx, vocab.KindVerification, `INSERT INTO verification_jobs (`+verificationJobCols+`) VALUES (`+catsql.Placeholders(14)+`)`, []any{
		j.ID, j.VaultName, j.VaultARN, j.State, j.StatusMessage, j.ReadDataPercent, int64(j.Seed), //nolint:gosec // bit for bit
		catsql.ToNanos(j.CreatedAt), catsql.ToNanos(j.StartedAt), catsql.ToNanos(j.CompletedAt), j.Owner, j.Run, catsql.NonEmpty(j.Stats, "{}"), j.Problems},
		j.ID, j.State, j.StatusMessage, then)
	if err != nil {
		return fmt.Errorf("insert verification job %s: %w", j.ID, err)
	}
	return nil
}

const verificationJobSet = `UPDATE verification_jobs SET state = ?, status_message = ?, started_at = ?, completed_at = ?,
	owner = ?, run = ?, stats = ?, problems = ? WHERE id = ?`

func (j VerificationJob) row() jobRow {
	return jobRow{kind: vocab.KindVerification, table: "verification_jobs", stateCol: "state", set: verificationJobSet, values: j.mutable(),
		id: j.ID, state: j.State, msg: j.StatusMessage, owner: j.Owner, run: j.Run}
}

func (j VerificationJob) mutable() []any {
	return []any{j.State, j.StatusMessage, catsql.ToNanos(j.StartedAt), catsql.ToNanos(j.CompletedAt), j.Owner, j.Run,
		catsql.NonEmpty(j.Stats, "{}"), j.Problems, j.ID}
}

// TransitionVerificationJobTx stores every mutable field of j only if the
// stored state is one of from, runs then in the same transaction, and
// reports whether it did.
func (s *Store) TransitionVerificationJobTx(ctx context.Context, j VerificationJob, then catalog.TxFunc, from ...string) (bool, error) {
	return s.transition(ctx, j.row(), false, then, from)
}

// TransitionOwnVerificationJob is TransitionVerificationJobTx for the
// process that runs the job: it changes nothing unless the stored job is
// still the run j.Run claimed by j.Owner.
func (s *Store) TransitionOwnVerificationJob(ctx context.Context, j VerificationJob, from ...string) (bool, error) {
	return s.transition(ctx, j.row(), true, nil, from)
}

// ClaimVerificationJob moves verification job j from CREATED to its new
// state (with its other fields) unless maintenance of its vault runs in
// any process: false then, or if the job is no longer CREATED (a claimed
// verification in turn keeps maintenance from claiming the vault: see
// noJobRunning).
func (s *Store) ClaimVerificationJob(ctx context.Context, j VerificationJob) (bool, error) {
	return s.claimJob(ctx, j.row(), vocab.StateCreated, j.VaultName)
}

// VerificationJob returns one verification job; ErrNotFound if absent.
func (s *Store) VerificationJob(ctx context.Context, id string) (VerificationJob, error) {
	j, err := scanVerificationJob(s.db.SQL().QueryRowContext(ctx, `SELECT `+verificationJobCols+` FROM verification_jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return VerificationJob{}, fmt.Errorf("verification job %q: %w", id, catalog.ErrNotFound)
	}
	if err != nil {
		return VerificationJob{}, fmt.Errorf("read verification job %q: %w", id, err)
	}
	return j, nil
}

// VerificationJobFilter narrows ListVerificationJobs.
type VerificationJobFilter struct {
	VaultName, State            string
	States                      []string
	CreatedAfter, CreatedBefore time.Time
}

// ListVerificationJobs returns verification jobs newest first.
func (s *Store) ListVerificationJobs(ctx context.Context, f VerificationJobFilter, p catalog.Page) ([]VerificationJob, string, error) {
	var w catsql.Where
	w.Eq("vault_name", f.VaultName)
	return listJobs(ctx, s, verificationJobTable, w, jobFilter{state: f.State, states: f.States, createdAfter: f.CreatedAfter,
		createdBefore: f.CreatedBefore}, p, scanVerificationJob)
}
