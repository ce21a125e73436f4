package service

import (
	"context"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/holdstore"
	"github.com/cofferbackup/coffer/internal/vaultlock"
)

// The inputs of vault lock and legal hold operations, under the names the
// API layer uses.
type (
	VaultLockInput = vaultlock.PutInput
	LegalHoldInput = vaultlock.HoldInput
)

// VaultTypeAirGapped is AWS's VaultType of a logically air-gapped vault.
const VaultTypeAirGapped = "LOGICALLY_AIR_GAPPED_BACKUP_VAULT"

// CreateAirGappedVault creates a logically air-gapped vault: a vault in
// compliance-mode lock from its creation, with both retention bounds.
func (s *Service) CreateAirGappedVault(ctx context.Context, in CreateVaultInput, minDays, maxDays *int64) (catalog.Vault, error) {
	lock, err := vaultlock.AirGappedLock(minDays, maxDays, s.clock.Now())
	if err != nil {
		return catalog.Vault{}, err
	}
	in.VaultType, in.Lock = VaultTypeAirGapped, lock
	return s.inv.CreateVault(ctx, in)
}

// PutVaultLock applies a lock configuration to a vault.
func (s *Service) PutVaultLock(ctx context.Context, vaultName string, in VaultLockInput) error {
	return s.locks.Put(ctx, vaultName, in)
}

// DeleteVaultLock removes a vault's lock configuration, unless immutable.
func (s *Service) DeleteVaultLock(ctx context.Context, vaultName string) error {
	return s.locks.Delete(ctx, vaultName)
}

// VaultLock returns a vault's lock configuration and whether it has one.
func (s *Service) VaultLock(ctx context.Context, vaultName string) (catalog.VaultLock, bool, error) {
	return s.locks.Lock(ctx, vaultName)
}

// UpdateRecoveryPointLifecycle changes a recovery point's retention, as
// its vault's lock allows.
func (s *Service) UpdateRecoveryPointLifecycle(ctx context.Context, vaultName, arn string, days int64) (catalog.RecoveryPoint, error) {
	return s.inv.ChangeRecoveryPointLifecycle(ctx, vaultName, arn, days, func(rp catalog.RecoveryPoint) error {
		return s.locks.MayChangeLifecycle(ctx, rp, days)
	})
}

// CreateLegalHold creates a legal hold and returns it with the number of
// recovery points it holds.
func (s *Service) CreateLegalHold(ctx context.Context, in LegalHoldInput) (holdstore.LegalHold, int64, error) {
	return s.locks.CreateHold(ctx, in)
}

// LegalHold returns one legal hold.
func (s *Service) LegalHold(ctx context.Context, id string) (holdstore.LegalHold, error) {
	return s.locks.Hold(ctx, id)
}

// ListLegalHolds lists legal holds, oldest first.
func (s *Service) ListLegalHolds(ctx context.Context, p catalog.Page) ([]holdstore.LegalHold, string, error) {
	return s.locks.Holds(ctx, p)
}

// CancelLegalHold cancels a legal hold.
func (s *Service) CancelLegalHold(ctx context.Context, id, description string, retainDays int64) error {
	return s.locks.CancelHold(ctx, id, description, retainDays)
}

// ListRecoveryPointsByLegalHold lists the recovery points of a hold.
func (s *Service) ListRecoveryPointsByLegalHold(ctx context.Context, id string, p catalog.Page) ([]holdstore.HeldPoint, string, error) {
	return s.locks.HeldPoints(ctx, id, p)
}
