package backupjob

import (
	"context"
	"errors"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/jobs"
	"github.com/cofferbackup/coffer/internal/scheduler"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// StartScheduled starts the backup a plan rule's run asks for (Backups
// is the scheduler's scheduler.Backups).
func (b *Backups) StartScheduled(ctx context.Context, in scheduler.ScheduledBackup) error {
	_, err := b.Start(ctx, startInput(in))
	return err
}

// RecordRefused records a scheduled backup that could not start as a
// FAILED job carrying the reason.
func (b *Backups) RecordRefused(ctx context.Context, in scheduler.ScheduledBackup, reason error) error {
	now := b.cfg.Clock.Now()
	j := jobstore.BackupJob{ID: vocab.NewID(), VaultName: in.VaultName, VaultARN: b.cfg.Names.VaultARN(in.VaultName), ResourceARN: in.ResourceARN,
		ResourceType: "S3", State: jobs.StateFailed, StatusMessage: "the scheduled backup could not start: " + reason.Error(),
		IdempotencyToken: in.IdempotencyToken, BackupOptions: in.BackupOptions, RecoveryPointTags: in.RecoveryPointTags,
		CreatedAt: now, CompletedAt: now, PercentDone: "0.0", PlanID: in.PlanID, PlanVersion: in.PlanVersion, RuleID: in.RuleID}
	if err := b.cfg.Jobs.InsertBackupJob(ctx, j, nil); err != nil && !errors.Is(err, catalog.ErrExists) {
		return err
	}
	b.cfg.Log.Error("scheduled backup could not start", "plan", in.PlanID, "rule", in.RuleID, "resource", in.ResourceARN, "err", reason)
	return nil
}

func startInput(in scheduler.ScheduledBackup) StartBackupInput {
	return StartBackupInput{VaultName: in.VaultName, ResourceARN: in.ResourceARN, IdempotencyToken: in.IdempotencyToken,
		StartWindowMinutes: in.StartWindowMinutes, CompleteWindowMinutes: in.CompleteWindowMinutes, DeleteAfterDays: in.DeleteAfterDays,
		RecoveryPointTags: in.RecoveryPointTags, BackupOptions: in.BackupOptions, ScheduledAt: in.ScheduledAt,
		PlanID: in.PlanID, PlanVersion: in.PlanVersion, RuleID: in.RuleID}
}
