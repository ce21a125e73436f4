package inventory

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/cofferbackup/coffer/internal/vaults"
	"github.com/cofferbackup/coffer/internal/vaultverify"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// VerifyVault checks vault name's integrity (vaultverify.Verify) under its
// shared lease (opts.Seed 0 picks a seed at random): beside jobs, waiting (bounded by ctx) while maintenance
// or the vault's deletion holds it. The log gets the counts; the report,
// which names no object key, goes to the caller.
func (inv *Inventory) VerifyVault(ctx context.Context, name string, opts vaultverify.Options) (vaultverify.Report, error) {
	if opts.ReadDataPercent < 0 || opts.ReadDataPercent > 100 {
		return vaultverify.Report{}, fmt.Errorf("%w: ReadDataPercent %v must be between 0 and 100", vocab.ErrInvalidParameter, opts.ReadDataPercent)
	}
	if opts.Seed == 0 { // a fresh pick; the report says which, to repeat it
		opts.Seed = rand.Uint64()
	}
	v, err := inv.Vault(ctx, name)
	if err != nil {
		return vaultverify.Report{}, err
	}
	l, err := inv.Lease(ctx, v, vaults.Shared, "", true)
	if err != nil {
		return vaultverify.Report{}, err
	}
	defer l.Release()
	rep, err := vaultverify.Verify(ctx, l.Vault(), opts)
	if err != nil {
		return rep, fmt.Errorf("verify backup vault %q: %w", name, err)
	}
	log := inv.cfg.Log.Info
	if !rep.OK() {
		log = inv.cfg.Log.Error
	}
	log("vault verified", "vault", name, "recovery_points", rep.RecoveryPoints, "records", rep.Records,
		"objects", rep.Objects, "contents", rep.Contents, "objects_read", rep.ObjectsRead,
		"problems", rep.ProblemCount, "affected_recovery_points", len(rep.AffectedRecoveryPoints))
	return rep, nil
}
