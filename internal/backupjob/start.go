package backupjob

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/jobs"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// StartBackupInput is StartBackupJob's input.
type StartBackupInput struct {
	VaultName             string
	ResourceARN           string
	IAMRoleARN            string
	IdempotencyToken      string
	StartWindowMinutes    int64
	CompleteWindowMinutes int64
	DeleteAfterDays       int64
	RecoveryPointTags     map[string]string
	BackupOptions         map[string]string
	// ScheduledAt starts the start window (default now); PlanID,
	// PlanVersion and RuleID name the plan rule of a scheduled job.
	ScheduledAt                 time.Time
	PlanID, PlanVersion, RuleID string
}

// Start validates the request, records a job and queues it.
func (b *Backups) Start(ctx context.Context, in StartBackupInput) (jobstore.BackupJob, error) {
	if in.VaultName == "" {
		return jobstore.BackupJob{}, fmt.Errorf("%w: BackupVaultName is required", vocab.ErrMissingParameter)
	}
	if in.ResourceARN == "" {
		return jobstore.BackupJob{}, fmt.Errorf("%w: ResourceArn is required", vocab.ErrMissingParameter)
	}
	if in.IdempotencyToken != "" {
		if prev, err := b.backupJobByToken(ctx, in); !errors.Is(err, vocab.ErrNotFound) {
			return prev, err
		}
	}
	v, err := b.cfg.Vaults.Vault(ctx, in.VaultName)
	if err != nil {
		return jobstore.BackupJob{}, err
	}
	conn, bucket, err := vocab.ParseS3ARN(in.ResourceARN)
	if err != nil {
		return jobstore.BackupJob{}, err
	}
	if _, err := b.cfg.Source(ctx, conn); err != nil {
		return jobstore.BackupJob{}, err
	}
	if err := validateBackupOptions(in.BackupOptions); err != nil {
		return jobstore.BackupJob{}, err
	}
	if err := vocab.ValidateTags(in.RecoveryPointTags); err != nil {
		return jobstore.BackupJob{}, fmt.Errorf("RecoveryPointTags: %w", err)
	}
	if err := vocab.ValidateJobDurations(in.DeleteAfterDays, in.StartWindowMinutes, in.CompleteWindowMinutes); err != nil {
		return jobstore.BackupJob{}, err
	}
	now := b.cfg.Clock.Now()
	windowStart := now
	if !in.ScheduledAt.IsZero() {
		windowStart = in.ScheduledAt
	}
	window := in.StartWindowMinutes
	if window == 0 {
		window = vocab.DefaultStartWindowMinutes
	}
	rpID := fmt.Sprintf("%s-%s-%s", bucket, now.Format("20060102150405"), strings.ToLower(vocab.NewID()[:8]))
	job := jobstore.BackupJob{
		ID: vocab.NewID(), VaultName: v.Name, VaultARN: v.ARN, ResourceARN: in.ResourceARN, ResourceType: "S3",
		State: jobs.StateCreated, RecoveryPointARN: b.cfg.Names.RecoveryPointARN(rpID), IdempotencyToken: in.IdempotencyToken,
		IAMRoleARN: in.IAMRoleARN, BackupOptions: in.BackupOptions, DeleteAfterDays: in.DeleteAfterDays,
		RecoveryPointTags: in.RecoveryPointTags, CreatedAt: now, StartBy: vocab.AddMinutes(windowStart, window),
		PercentDone: "0.0", PlanID: in.PlanID, PlanVersion: in.PlanVersion, RuleID: in.RuleID,
	}
	if in.CompleteWindowMinutes > 0 {
		// AWS counts the completion window from the scheduled time.
		job.CompleteBy = vocab.AddMinutes(windowStart, in.CompleteWindowMinutes)
	}
	err = b.cfg.Jobs.InsertBackupJob(ctx, job, b.cfg.Core.Enqueue(ctx, kind, job.ID, 0))
	if errors.Is(err, catalog.ErrExists) {
		return b.backupJobByToken(ctx, in) // a concurrent request with the same token won
	}
	if err != nil {
		return jobstore.BackupJob{}, err
	}
	b.cfg.Log.Info("backup job created", "job", job.ID, "vault", v.Name, "resource", in.ResourceARN)
	return job, nil
}

// backupJobByToken returns the job an earlier request with the same
// IdempotencyToken created: vocab.ErrNotFound if none, vocab.ErrInvalidParameter if it
// was for another resource or vault.
func (b *Backups) backupJobByToken(ctx context.Context, in StartBackupInput) (jobstore.BackupJob, error) {
	prev, _, err := b.cfg.Jobs.ListBackupJobs(ctx, jobstore.BackupJobFilter{IdempotencyToken: in.IdempotencyToken}, catalog.Page{Max: 1})
	switch {
	case err != nil:
		return jobstore.BackupJob{}, err
	case len(prev) == 0:
		return jobstore.BackupJob{}, fmt.Errorf("backup job with token %q: %w", in.IdempotencyToken, vocab.ErrNotFound)
	case prev[0].ResourceARN != in.ResourceARN || prev[0].VaultName != in.VaultName:
		return jobstore.BackupJob{}, fmt.Errorf("%w: IdempotencyToken %q was already used for another request", vocab.ErrInvalidParameter, in.IdempotencyToken)
	}
	return prev[0], nil
}

func validateBackupOptions(opts map[string]string) error {
	return vocab.CheckS3BackupOptions(opts)
}

// Job describes one job.
func (b *Backups) Job(ctx context.Context, id string) (jobstore.BackupJob, error) {
	j, err := b.cfg.Jobs.BackupJob(ctx, id)
	if errors.Is(err, catalog.ErrNotFound) {
		return j, fmt.Errorf("backup job %q: %w", id, vocab.ErrNotFound)
	}
	return j, err
}

// Stop aborts a job that has not finished. A queued job ends
// ABORTED at once; a running one becomes ABORTING, is cancelled wherever it
// runs, and ends ABORTED with no recovery point (or COMPLETED if its
// recovery point was already committed).
func (b *Backups) Stop(ctx context.Context, id string) error {
	// Each step is a conditional transition; if the job moved on between
	// the read and the write, read it again.
	for range 5 {
		j, err := b.Job(ctx, id)
		if err != nil {
			return err
		}
		switch j.State {
		case jobs.StateCreated, jobs.StatePending:
			if b.endQueued(ctx, j, jobs.StateAborted, "stopped by StopBackupJob before it started") {
				b.cfg.Core.CancelQueued(ctx, kind, id)
				return nil
			}
		case jobs.StateRunning:
			j.State = jobs.StateAborting
			ok, err := b.cfg.Jobs.TransitionBackupJob(ctx, j, jobs.StateRunning)
			if err != nil {
				return err
			}
			if ok {
				b.cfg.Core.Stop(ctx, kind, id, jobs.ErrStopped)
				return nil
			}
		case jobs.StateAborting:
			return nil
		default:
			return fmt.Errorf("%w: backup job %s is %s and cannot be stopped", vocab.ErrInvalidRequest, id, j.State)
		}
	}
	return fmt.Errorf("%w: backup job %s kept changing state; try again", vocab.ErrInvalidRequest, id)
}
