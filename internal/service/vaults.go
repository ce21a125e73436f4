package service

import (
	"context"
	"fmt"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/inventory"
	"github.com/cofferbackup/coffer/internal/vaultverify"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// The inputs and results of vault operations, under the names the API
// layer uses.
type (
	CreateVaultInput = inventory.CreateVaultInput
	AttachVaultInput = inventory.AttachVaultInput
	AttachedVault    = inventory.AttachedVault
)

// CreateVault creates an empty, encrypted vault. A repeated call with the
// same CreatorRequestID returns the existing vault.
func (s *Service) CreateVault(ctx context.Context, in CreateVaultInput) (catalog.Vault, error) {
	return s.inv.CreateVault(ctx, in)
}

// Vault describes one vault.
func (s *Service) Vault(ctx context.Context, name string) (catalog.Vault, error) {
	return s.inv.Vault(ctx, name)
}

// ListVaults lists vaults by name.
func (s *Service) ListVaults(ctx context.Context, p catalog.Page) ([]catalog.Vault, string, error) {
	return s.db.ListVaults(ctx, p)
}

// DeleteVault deletes an empty vault and its files.
func (s *Service) DeleteVault(ctx context.Context, name string) error {
	return s.inv.DeleteVault(ctx, name)
}

// AttachVault brings a vault directory made by another server into the
// vault store and registers it with its recovery points.
func (s *Service) AttachVault(ctx context.Context, in AttachVaultInput) (AttachedVault, error) {
	return s.inv.AttachVault(ctx, in)
}

// RecoveryPoint describes one recovery point of a vault.
func (s *Service) RecoveryPoint(ctx context.Context, vaultName, arn string) (catalog.RecoveryPoint, error) {
	return s.inv.RecoveryPoint(ctx, vaultName, arn)
}

// ListRecoveryPoints lists a vault's recovery points newest first.
func (s *Service) ListRecoveryPoints(ctx context.Context, f catalog.RecoveryPointFilter, p catalog.Page) ([]catalog.RecoveryPoint, string, error) {
	return s.inv.ListRecoveryPoints(ctx, f, p)
}

// DeleteRecoveryPoint removes a recovery point from its vault and the
// catalog, then queues a maintenance job that reclaims its space.
func (s *Service) DeleteRecoveryPoint(ctx context.Context, vaultName, arn string) error {
	rp, err := s.inv.RecoveryPoint(ctx, vaultName, arn)
	if err != nil {
		return err
	}
	if err := s.inv.DeleteRecoveryPoint(ctx, rp); err != nil {
		return err
	}
	s.maint.Later(ctx, vaultName, TriggerRecoveryPointDeleted)
	return nil
}

// ExpireRecoveryPoints deletes every recovery point whose retention ended
// (see retention.Expirer); the leader runs it periodically.
func (s *Service) ExpireRecoveryPoints(ctx context.Context) (int, error) { return s.expiry.Expire(ctx) }

// planTargets refuses the deletion of a vault that a live plan's rule
// targets: its next run would fail.
func (s *Service) planTargets(ctx context.Context, vaultName string) error {
	plans, err := catalog.AllPages(func(p catalog.Page) ([]Plan, string, error) { return s.ListPlans(ctx, false, p) })
	if err != nil {
		return err
	}
	for _, p := range plans {
		for _, r := range p.Doc.Rules {
			if r.TargetBackupVaultName == vaultName {
				return fmt.Errorf("%w: backup vault %q is the target of rule %q of backup plan %s; change or delete the plan first",
					vocab.ErrInvalidRequest, vaultName, r.RuleName, p.ID)
			}
		}
	}
	return nil
}

// VerifyVault checks a vault's integrity (inventory.VerifyVault).
func (s *Service) VerifyVault(ctx context.Context, name string, opts vaultverify.Options) (vaultverify.Report, error) {
	return s.inv.VerifyVault(ctx, name, opts)
}
