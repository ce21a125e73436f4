package copyjob

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/jobs"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// StartCopyInput is StartCopyJob's input. DestinationVault is a backup
// vault ARN or (coffer's CLI) a vault name.
type StartCopyInput struct {
	RecoveryPointARN, SourceVaultName, DestinationVault string
	IAMRoleARN, IdempotencyToken                        string
	DeleteAfterDays, MoveToColdAfterDays                int64
	// Set for the copies a plan rule's backup queues.
	CreatedByBackupJobID, PlanID, PlanVersion, RuleID string
}

// Start validates a copy request, records the job and queues it.
func (c *Copies) Start(ctx context.Context, in StartCopyInput) (jobstore.CopyJob, error) {
	switch {
	case in.RecoveryPointARN == "":
		return jobstore.CopyJob{}, fmt.Errorf("%w: RecoveryPointArn is required", vocab.ErrMissingParameter)
	case in.SourceVaultName == "":
		return jobstore.CopyJob{}, fmt.Errorf("%w: SourceBackupVaultName is required", vocab.ErrMissingParameter)
	case in.DestinationVault == "":
		return jobstore.CopyJob{}, fmt.Errorf("%w: DestinationBackupVaultArn is required", vocab.ErrMissingParameter)
	case in.DeleteAfterDays < 0 || in.MoveToColdAfterDays < 0:
		return jobstore.CopyJob{}, fmt.Errorf("%w: Lifecycle days must not be negative", vocab.ErrInvalidParameter)
	}
	if in.IdempotencyToken != "" {
		if prev, err := c.jobByToken(ctx, in.IdempotencyToken); !errors.Is(err, vocab.ErrNotFound) {
			return prev, err
		}
	}
	src, err := c.cfg.Vaults.Vault(ctx, in.SourceVaultName)
	if err != nil {
		return jobstore.CopyJob{}, err
	}
	rp, err := c.cfg.DB.RecoveryPoint(ctx, src.Name, in.RecoveryPointARN)
	if errors.Is(err, catalog.ErrNotFound) {
		return jobstore.CopyJob{}, fmt.Errorf("recovery point %q in backup vault %q: %w", in.RecoveryPointARN, src.Name, vocab.ErrNotFound)
	}
	if err != nil {
		return jobstore.CopyJob{}, err
	}
	if rp.Kind == catalog.KindContinuous && rp.LatestRestorable.IsZero() {
		return jobstore.CopyJob{}, fmt.Errorf("%w: continuous recovery point %q has no restorable time yet (its initial capture has not finished): nothing to copy", vocab.ErrInvalidParameter, rp.ARN)
	}
	destName := in.DestinationVault
	if strings.HasPrefix(destName, "arn:") {
		if _, destName, err = vocab.ParseVaultARN(in.DestinationVault); err != nil {
			return jobstore.CopyJob{}, err
		}
	}
	dst, err := c.cfg.Vaults.Vault(ctx, destName)
	if err != nil {
		return jobstore.CopyJob{}, err
	}
	now := c.cfg.Clock.Now()
	bucket, _ := vocab.ParseBucketARN(rp.ResourceARN)
	rpID := fmt.Sprintf("%s-%s-%s", bucket, now.Format("20060102150405"), strings.ToLower(vocab.NewID()[:8]))
	j := jobstore.CopyJob{
		ID: vocab.NewID(), SourceVaultName: src.Name, SourceVaultARN: src.ARN, SourceRecoveryPointARN: rp.ARN,
		DestinationVaultName: dst.Name, DestinationVaultARN: dst.ARN, DestinationRecoveryPointARN: c.cfg.Names.RecoveryPointARN(rpID),
		ResourceARN: rp.ResourceARN, ResourceType: nonEmpty(rp.ResourceType, "S3"), State: jobs.StateCreated,
		IdempotencyToken: in.IdempotencyToken, IAMRoleARN: in.IAMRoleARN, DeleteAfterDays: in.DeleteAfterDays,
		MoveToColdAfterDays: in.MoveToColdAfterDays, CreatedAt: now, BackupSize: rp.SizeBytes,
		CreatedByBackupJobID: in.CreatedByBackupJobID, PlanID: in.PlanID, PlanVersion: in.PlanVersion, RuleID: in.RuleID,
	}
	err = c.cfg.Jobs.InsertCopyJob(ctx, j, c.cfg.Core.Enqueue(ctx, kind, j.ID, 0))
	if errors.Is(err, catalog.ErrExists) {
		return c.jobByToken(ctx, in.IdempotencyToken) // a concurrent request with the same token won
	}
	if err != nil {
		return jobstore.CopyJob{}, err
	}
	c.cfg.Log.Info("copy job created", "job", j.ID, "rp", rp.ARN, "destination", dst.Name)
	return j, nil
}

func (c *Copies) jobByToken(ctx context.Context, token string) (jobstore.CopyJob, error) {
	prev, _, err := c.cfg.Jobs.ListCopyJobs(ctx, jobstore.CopyJobFilter{IdempotencyToken: token}, catalog.Page{Max: 1})
	switch {
	case err != nil:
		return jobstore.CopyJob{}, err
	case len(prev) == 0:
		return jobstore.CopyJob{}, fmt.Errorf("copy job with token %q: %w", token, vocab.ErrNotFound)
	}
	return prev[0], nil
}

// Job describes one copy job.
func (c *Copies) Job(ctx context.Context, id string) (jobstore.CopyJob, error) {
	j, err := c.cfg.Jobs.CopyJob(ctx, id)
	if errors.Is(err, catalog.ErrNotFound) {
		return j, fmt.Errorf("copy job %q: %w", id, vocab.ErrNotFound)
	}
	return j, err
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
