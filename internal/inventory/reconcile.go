package inventory

import (
	"context"
	"errors"
	"fmt"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vaults"
)

// Reconcile brings the catalog in line with the vaults after a start:
// the vaults are the source of truth for vaults and recovery points (the
// catalog's vaults are reconciled with their files, then the vaults the
// catalog lacks are registered from theirs).
func (inv *Inventory) Reconcile(ctx context.Context) error {
	all, err := inv.cfg.DB.AllVaults(ctx)
	if err != nil {
		return err
	}
	for _, v := range all {
		if err := inv.reconcileVault(ctx, v); err != nil {
			// One broken vault must not keep the others from serving.
			inv.cfg.Log.Error("reconcile vault", "vault", v.Name, "err", err)
		}
	}
	if err := inv.rebuildFromStore(ctx); err != nil {
		return fmt.Errorf("rebuild catalog from the vault store: %w", err)
	}
	return nil
}

func (inv *Inventory) reconcileVault(ctx context.Context, v catalog.Vault) error {
	l, err := inv.Lease(ctx, v, vaults.Shared, "", true)
	if err != nil {
		return err
	}
	defer l.Release()
	// A vault made before vaults described themselves gets its descriptor
	// now, so that it can be rebuilt from its files too.
	d, err := l.Vault().Descriptor(ctx)
	if errors.Is(err, vault.ErrNotFound) {
		d = descriptorOf(v)
		if err := l.Vault().PutDescriptor(ctx, d); err != nil {
			return err
		}
		inv.cfg.Log.Info("vault descriptor written", "vault", v.Name)
	} else if err != nil {
		return err
	}
	// What a crash left only in the vault (a lock or hold is recorded
	// there first) reaches the catalog; nothing is removed from it.
	if err := inv.restoreLocks(ctx, v.Name, d, l.Vault()); err != nil {
		return err
	}
	manifests, err := l.Vault().RecoveryPoints(ctx)
	if err != nil {
		return fmt.Errorf("list recovery points of vault %q: %w", v.Name, err)
	}
	var ov *overrides
	inVault := map[string]bool{}
	for _, m := range manifests {
		inVault[m.ARN] = true
		if _, err := inv.cfg.DB.RecoveryPoint(ctx, v.Name, m.ARN); err == nil {
			continue
		}
		if ov == nil {
			o, err := readOverrides(ctx, l.Vault())
			if err != nil {
				return err
			}
			ov = &o
		}
		if err := inv.registerFromVault(ctx, v.Name, m, *ov); err != nil {
			return err
		}
		inv.cfg.Log.Warn("recovery point found in vault but not in catalog; registered", "vault", v.Name, "rp", m.ARN)
	}
	continuous, err := inv.continuousInVault(ctx, v.Name, l.Vault())
	if err != nil {
		return err
	}
	for arn := range continuous {
		inVault[arn] = true
	}
	p := catalog.Page{Max: 1000}
	for {
		rps, tok, err := inv.cfg.DB.ListRecoveryPoints(ctx, catalog.RecoveryPointFilter{VaultName: v.Name}, p)
		if err != nil {
			return err
		}
		for _, rp := range rps {
			if inVault[rp.ARN] || inv.keepContinuous(ctx, rp) {
				continue
			}
			inv.cfg.Log.Warn("recovery point in catalog but not in vault; dropped from catalog", "vault", v.Name, "rp", rp.ARN)
			if err := inv.cfg.DB.DeleteRecoveryPoint(ctx, rp.ARN); err != nil {
				return err
			}
		}
		if tok == "" {
			return nil
		}
		p.Token = tok
	}
}
