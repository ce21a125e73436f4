package verifyjob

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/jobs"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// StartInput is a verification request.
type StartInput struct {
	VaultName string
	// ReadDataPercent (0 to 100) of the data objects are read back.
	ReadDataPercent float64
	// Seed picks the objects read; 0 picks a seed at random (the job
	// records it, to repeat the pick).
	Seed uint64
}

// Start validates a verification request, records the job and queues it.
func (v *Verifications) Start(ctx context.Context, in StartInput) (jobstore.VerificationJob, error) {
	switch {
	case in.VaultName == "":
		return jobstore.VerificationJob{}, fmt.Errorf("%w: BackupVaultName is required", vocab.ErrMissingParameter)
	case in.ReadDataPercent < 0 || in.ReadDataPercent > 100:
		return jobstore.VerificationJob{}, fmt.Errorf("%w: ReadDataPercent %v must be between 0 and 100", vocab.ErrInvalidParameter, in.ReadDataPercent)
	}
	vault, err := v.cfg.Vaults.Vault(ctx, in.VaultName)
	if err != nil {
		return jobstore.VerificationJob{}, err
	}
	if in.Seed == 0 {
		in.Seed = rand.Uint64() //nolint:gosec // a pick of objects, not a secret
	}
	j := jobstore.VerificationJob{ID: vocab.NewID(), VaultName: vault.Name, VaultARN: vault.ARN, State: jobs.StateCreated,
		ReadDataPercent: in.ReadDataPercent, Seed: in.Seed, CreatedAt: v.cfg.Clock.Now()}
	if err := v.cfg.Jobs.InsertVerificationJob(ctx, j, v.cfg.Core.Enqueue(ctx, kind, j.ID, 0)); err != nil {
		return jobstore.VerificationJob{}, err
	}
	v.cfg.Log.Info("verification job created", "job", j.ID, "vault", j.VaultName, "read_data_percent", j.ReadDataPercent)
	return j, nil
}

// Job describes one verification job.
func (v *Verifications) Job(ctx context.Context, id string) (jobstore.VerificationJob, error) {
	j, err := v.cfg.Jobs.VerificationJob(ctx, id)
	if errors.Is(err, catalog.ErrNotFound) {
		return j, fmt.Errorf("verification job %q: %w", id, vocab.ErrNotFound)
	}
	return j, err
}

// List lists verification jobs newest first.
func (v *Verifications) List(ctx context.Context, f jobstore.VerificationJobFilter, p catalog.Page) ([]jobstore.VerificationJob, string, error) {
	return v.cfg.Jobs.ListVerificationJobs(ctx, f, p)
}
