package inventory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/holdstore"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vaults"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// The vault's own records of what package vaultlock decides: the lock in
// the descriptor, a legal-hold manifest per hold, a lifecycle manifest per
// recovery point whose retention changed. A rebuilt catalog reads them.

// withVault runs f on vault name under a shared lease.
func (inv *Inventory) withVault(ctx context.Context, name string, f func(*vault.Vault) error) error {
	v, err := inv.Vault(ctx, name)
	if err != nil {
		return err
	}
	l, err := inv.Lease(ctx, v, vaults.Shared, "", true)
	if err != nil {
		return err
	}
	defer l.Release()
	return f(l.Vault())
}

// RecordVaultLock writes lock l (nil: none) into vault name's descriptor.
func (inv *Inventory) RecordVaultLock(ctx context.Context, name string, l *vault.Lock) error {
	v, err := inv.Vault(ctx, name)
	if err != nil {
		return err
	}
	return inv.withVault(ctx, name, func(vv *vault.Vault) error {
		d, err := vv.Descriptor(ctx)
		if errors.Is(err, vault.ErrNotFound) {
			d, err = descriptorOf(v), nil
		}
		if err != nil {
			return err
		}
		d.Lock = l
		return vv.PutDescriptor(ctx, d)
	})
}

// RecordLegalHold writes legal hold h, with its points in vault name.
func (inv *Inventory) RecordLegalHold(ctx context.Context, name string, h vault.LegalHold) error {
	return inv.withVault(ctx, name, func(vv *vault.Vault) error { return vv.PutLegalHold(ctx, h) })
}

// ChangeRecoveryPointLifecycle sets the retention of recovery point arn
// of vault vaultName to days from its creation (0: kept forever), once
// check allows it: the vault records it first (what a rebuilt catalog
// reads), then the catalog.
func (inv *Inventory) ChangeRecoveryPointLifecycle(ctx context.Context, vaultName, arn string, days int64,
	check func(catalog.RecoveryPoint) error) (catalog.RecoveryPoint, error) {
	if err := vocab.ValidateJobDurations(days, 0, 0); err != nil {
		return catalog.RecoveryPoint{}, err
	}
	inv.tagMu.Lock() // one change of a recovery point's records at a time
	defer inv.tagMu.Unlock()
	rp, err := inv.RecoveryPoint(ctx, vaultName, arn)
	if err != nil {
		return rp, err
	}
	if err := check(rp); err != nil {
		return rp, err
	}
	rp.DeleteAfterDays, rp.DeleteAt = days, time.Time{}
	if days > 0 {
		rp.DeleteAt = vocab.AddDays(rp.CreatedAt, days)
	}
	rec := vault.RecoveryPointLifecycle{ID: rp.ID, DeleteAfterDays: days, DeleteAt: rp.DeleteAt, UpdatedAt: inv.cfg.Clock.Now()}
	if err := inv.withVault(ctx, vaultName, func(vv *vault.Vault) error { return vv.PutRecoveryPointLifecycle(ctx, rec) }); err != nil {
		return rp, fmt.Errorf("record lifecycle of recovery point %q in its vault: %w", arn, err)
	}
	if err := inv.cfg.DB.UpdateRecoveryPointLifecycle(ctx, arn, days, rp.DeleteAt); err != nil {
		return rp, err
	}
	inv.cfg.Log.Info("recovery point lifecycle changed", "rp", arn, "delete_after_days", days)
	return rp, nil
}

// restoreLocks puts into the catalog the lock and legal holds that vault
// vv (registered as name) records.
func (inv *Inventory) restoreLocks(ctx context.Context, name string, d vault.Descriptor, vv *vault.Vault) error {
	if d.Lock != nil {
		if err := inv.cfg.Holds.PutVaultLock(ctx, catalog.VaultLock{VaultName: name, MinRetentionDays: d.Lock.MinRetentionDays,
			MaxRetentionDays: d.Lock.MaxRetentionDays, LockDate: d.Lock.LockDate, UpdatedAt: inv.cfg.Clock.Now()}); err != nil {
			return err
		}
	}
	holds, err := vv.LegalHolds(ctx)
	if err != nil {
		return err
	}
	for _, h := range holds {
		ch := holdstore.LegalHold{ID: h.ID, ARN: h.ARN, Title: h.Title, Description: h.Description, Status: h.Status,
			CancelDescription: h.CancelDescription, Tags: h.Tags, CreatedAt: h.CreatedAt, CancelledAt: h.CancelledAt,
			RetainRecordUntil: h.RetainRecordUntil}
		if len(h.Selection) > 0 {
			if err := json.Unmarshal(h.Selection, &ch.Selection); err != nil {
				return fmt.Errorf("legal hold %q in vault %q: selection: %w", h.ID, name, err)
			}
		}
		points := make([]holdstore.HeldPoint, len(h.Points))
		for i, p := range h.Points {
			points[i] = holdstore.HeldPoint{HoldID: h.ID, RecoveryPointARN: p.ARN, VaultName: name, ResourceARN: p.ResourceARN, ResourceType: p.ResourceType}
		}
		if err := inv.cfg.Holds.RestoreLegalHold(ctx, ch, points); err != nil {
			return err
		}
	}
	return nil
}
