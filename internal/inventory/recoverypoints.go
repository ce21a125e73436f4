package inventory

import (
	"context"
	"errors"
	"fmt"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vaults"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// RegisterRecoveryPoint indexes a recovery point the vault already holds.
func (inv *Inventory) RegisterRecoveryPoint(ctx context.Context, m recpoint.Manifest) error {
	rp := catalog.RecoveryPoint{
		ARN: m.ARN, ID: m.ID, VaultName: m.VaultName, ResourceARN: m.ResourceARN, ResourceType: m.ResourceType,
		BackupJobID: m.BackupJobID, Status: m.Status, StatusMessage: m.StatusMessage,
		CreatedAt: m.CreatedAt, CompletedAt: m.CompletedAt, DeleteAfterDays: m.DeleteAfterDays,
		SizeBytes: m.TotalBytes, ObjectCount: m.ObjectCount, Tags: m.Tags, SourceBackupVaultARN: m.SourceBackupVaultARN,
	}
	if m.DeleteAfterDays > 0 {
		rp.DeleteAt = vocab.AddDays(m.CreatedAt, m.DeleteAfterDays) // saturates: an old manifest's 200000 days is not 1989
	}
	if err := inv.cfg.DB.PutRecoveryPoint(ctx, rp); err != nil {
		return err
	}
	return inv.cfg.DB.SetTags(ctx, rp.ARN, m.Tags)
}

// RecoveryPoint describes one recovery point of a vault.
func (inv *Inventory) RecoveryPoint(ctx context.Context, vaultName, arn string) (catalog.RecoveryPoint, error) {
	if _, err := inv.Vault(ctx, vaultName); err != nil {
		return catalog.RecoveryPoint{}, err
	}
	rp, err := inv.cfg.DB.RecoveryPoint(ctx, vaultName, arn)
	if errors.Is(err, catalog.ErrNotFound) {
		return rp, fmt.Errorf("recovery point %q in backup vault %q: %w", arn, vaultName, vocab.ErrNotFound)
	}
	return rp, err
}

// ListRecoveryPoints lists a vault's recovery points newest first.
func (inv *Inventory) ListRecoveryPoints(ctx context.Context, f catalog.RecoveryPointFilter, p catalog.Page) ([]catalog.RecoveryPoint, string, error) {
	if _, err := inv.Vault(ctx, f.VaultName); err != nil {
		return nil, "", err
	}
	return inv.cfg.DB.ListRecoveryPoints(ctx, f, p)
}

// DeleteRecoveryPoint removes recovery point rp from its vault and the
// catalog, unless a vault lock or legal hold protects it. Its space is
// reclaimed by the vault's next maintenance.
func (inv *Inventory) DeleteRecoveryPoint(ctx context.Context, rp catalog.RecoveryPoint) error {
	return inv.deleteRecoveryPoint(ctx, rp, false)
}

// ExpireRecoveryPoint is DeleteRecoveryPoint at the end of rp's
// retention: a vault lock allows it, a legal hold does not.
func (inv *Inventory) ExpireRecoveryPoint(ctx context.Context, rp catalog.RecoveryPoint) error {
	return inv.deleteRecoveryPoint(ctx, rp, true)
}

func (inv *Inventory) deleteRecoveryPoint(ctx context.Context, rp catalog.RecoveryPoint, expiry bool) error {
	if inv.cfg.MayDelete != nil {
		if err := inv.cfg.MayDelete(ctx, rp, expiry); err != nil {
			return err
		}
	}
	v, err := inv.cfg.DB.Vault(ctx, rp.VaultName)
	if err != nil {
		return err
	}
	// Shared: a deletion runs beside jobs; it waits only while
	// maintenance (or the vault's deletion) holds the vault.
	l, err := inv.Lease(ctx, v, vaults.Shared, "", true)
	if err != nil {
		return err
	}
	defer l.Release()
	// Vault first: if the catalog delete then fails, the next start's
	// reconciliation drops the stale entry; the reverse would resurrect it.
	if rp.Kind == catalog.KindContinuous {
		if err := inv.deleteContinuous(ctx, l.Vault(), rp); err != nil {
			return fmt.Errorf("delete recovery point %q: %w", rp.ARN, err)
		}
	} else if err := l.Vault().DeleteRecoveryPoint(ctx, rp.ID); err != nil && !errors.Is(err, vault.ErrNotFound) {
		return fmt.Errorf("delete recovery point %q: %w", rp.ARN, err)
	}
	if err := inv.cfg.DB.DeleteRecoveryPoint(ctx, rp.ARN); err != nil {
		return err
	}
	if err := inv.cfg.DB.DeleteAllTags(ctx, rp.ARN); err != nil {
		return err
	}
	inv.cfg.Log.Info("recovery point deleted", "rp", rp.ARN, "vault", rp.VaultName)
	return nil
}

// Committed looks recovery point id up in vault vaultName itself, not in
// the catalog: a process that died between committing a recovery point
// and recording it left it only there. It does not wait for the vault: a
// vault held by maintenance or deletion answers a *vaults.BusyError, and
// the caller looks again later.
func (inv *Inventory) Committed(ctx context.Context, vaultName, id string) (m recpoint.Manifest, found bool, err error) {
	v, err := inv.Vault(ctx, vaultName)
	if err != nil {
		return m, false, err
	}
	l, err := inv.Lease(ctx, v, vaults.Shared, "", false)
	if err != nil {
		return m, false, err
	}
	defer l.Release()
	m, err = l.Vault().RecoveryPoint(ctx, id)
	if errors.Is(err, vault.ErrNotFound) {
		return m, false, nil
	}
	return m, err == nil, err
}
