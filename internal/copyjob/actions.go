package copyjob

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/jobs"
	"github.com/cofferbackup/coffer/internal/plan"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// AfterBackup queues a copy job per CopyAction of the plan rule whose
// backup job j ended with a recovery point (COMPLETED or PARTIAL). The
// copy's idempotency token names the backup and the action, so that a
// second call (a takeover that completes j again) queues nothing more. A
// copy that cannot start (its destination vault is gone) is recorded
// FAILED, saying why, as AWS does.
func (c *Copies) AfterBackup(ctx context.Context, j jobstore.BackupJob) {
	if j.PlanID == "" || j.State != jobs.StateCompleted && j.State != jobs.StatePartial {
		return
	}
	actions, err := c.copyActions(ctx, j)
	if err != nil {
		c.cfg.Log.Error("read the copy actions of a plan rule", "job", j.ID, "plan", j.PlanID, "err", err)
		return
	}
	for i, a := range actions {
		in := StartCopyInput{RecoveryPointARN: j.RecoveryPointARN, SourceVaultName: j.VaultName, DestinationVault: a.DestinationBackupVaultArn,
			IAMRoleARN: j.IAMRoleARN, IdempotencyToken: fmt.Sprintf("coffer-copy-action:%s:%d", j.ID, i),
			CreatedByBackupJobID: j.ID, PlanID: j.PlanID, PlanVersion: j.PlanVersion, RuleID: j.RuleID}
		if l := a.Lifecycle; l != nil {
			if l.DeleteAfterDays != nil {
				in.DeleteAfterDays = *l.DeleteAfterDays
			}
			if l.MoveToColdStorageAfterDays != nil {
				in.MoveToColdAfterDays = *l.MoveToColdStorageAfterDays
			}
		}
		if _, err := c.Start(ctx, in); err != nil {
			c.recordFailed(ctx, j, in, err)
		}
	}
}

// copyActions returns the CopyActions of j's rule, in the plan version
// that created j.
func (c *Copies) copyActions(ctx context.Context, j jobstore.BackupJob) ([]plan.CopyAction, error) {
	p, err := c.cfg.Plans.Plan(ctx, j.PlanID, j.PlanVersion)
	if err != nil {
		return nil, err
	}
	var doc plan.Document
	if err := json.Unmarshal([]byte(p.Document), &doc); err != nil {
		return nil, fmt.Errorf("plan %s version %s: %w", j.PlanID, j.PlanVersion, err)
	}
	for _, r := range doc.Rules {
		if r.RuleId == j.RuleID {
			return r.CopyActions, nil
		}
	}
	return nil, nil
}

// recordFailed records a plan's copy that could not start as a FAILED job.
func (c *Copies) recordFailed(ctx context.Context, b jobstore.BackupJob, in StartCopyInput, cause error) {
	dest := in.DestinationVault
	destName := dest
	if _, name, err := vocab.ParseVaultARN(dest); err == nil {
		destName = name
	}
	now := c.cfg.Clock.Now()
	j := jobstore.CopyJob{ID: vocab.NewID(), SourceVaultName: b.VaultName, SourceVaultARN: b.VaultARN, SourceRecoveryPointARN: b.RecoveryPointARN,
		DestinationVaultName: destName, DestinationVaultARN: dest, ResourceARN: b.ResourceARN, ResourceType: nonEmpty(b.ResourceType, "S3"),
		State: jobs.StateFailed, StatusMessage: "the copy could not start: " + strings.TrimSpace(cause.Error()), IdempotencyToken: in.IdempotencyToken,
		IAMRoleARN: in.IAMRoleARN, DeleteAfterDays: in.DeleteAfterDays, MoveToColdAfterDays: in.MoveToColdAfterDays, CreatedAt: now, CompletedAt: now,
		CreatedByBackupJobID: b.ID, PlanID: b.PlanID, PlanVersion: b.PlanVersion, RuleID: b.RuleID}
	if err := c.cfg.Jobs.InsertCopyJob(ctx, j, nil); err != nil {
		c.cfg.Log.Error("record a plan's copy that could not start", "backup_job", b.ID, "err", err, "cause", cause)
		return
	}
	c.cfg.Log.Warn("a plan's copy could not start", "backup_job", b.ID, "copy_job", j.ID, "err", cause)
}
