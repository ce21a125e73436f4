package service

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

// registerRecoveryPoint indexes a recovery point the vault already holds.
func (s *Service) registerRecoveryPoint(ctx context.Context, m recpoint.Manifest) error {
	rp := catalog.RecoveryPoint{
		ARN: m.ARN, ID: m.ID, VaultName: m.VaultName, ResourceARN: m.ResourceARN, ResourceType: m.ResourceType,
		BackupJobID: m.BackupJobID, Status: m.Status, StatusMessage: m.StatusMessage,
		CreatedAt: m.CreatedAt, CompletedAt: m.CompletedAt, DeleteAfterDays: m.DeleteAfterDays,
		SizeBytes: m.TotalBytes, ObjectCount: m.ObjectCount, Tags: m.Tags,
	}
	if m.DeleteAfterDays > 0 {
		rp.DeleteAt = vocab.AddDays(m.CreatedAt, m.DeleteAfterDays) // saturates: an old manifest's 200000 days is not 1989
	}
	if err := s.db.PutRecoveryPoint(ctx, rp); err != nil {
		return err
	}
	return s.db.SetTags(ctx, rp.ARN, m.Tags)
}

// RecoveryPoint describes one recovery point of a vault.
func (s *Service) RecoveryPoint(ctx context.Context, vaultName, arn string) (catalog.RecoveryPoint, error) {
	if _, err := s.Vault(ctx, vaultName); err != nil {
		return catalog.RecoveryPoint{}, err
	}
	rp, err := s.db.RecoveryPoint(ctx, vaultName, arn)
	if errors.Is(err, catalog.ErrNotFound) {
		return rp, fmt.Errorf("recovery point %q in backup vault %q: %w", arn, vaultName, ErrNotFound)
	}
	return rp, err
}

// ListRecoveryPoints lists a vault's recovery points newest first.
func (s *Service) ListRecoveryPoints(ctx context.Context, f catalog.RecoveryPointFilter, p catalog.Page) ([]catalog.RecoveryPoint, string, error) {
	if _, err := s.Vault(ctx, f.VaultName); err != nil {
		return nil, "", err
	}
	return wrapPage(s.db.ListRecoveryPoints(ctx, f, p))
}

// DeleteRecoveryPoint removes a recovery point from its vault and the
// catalog, then queues a maintenance job that reclaims its space.
func (s *Service) DeleteRecoveryPoint(ctx context.Context, vaultName, arn string) error {
	rp, err := s.RecoveryPoint(ctx, vaultName, arn)
	if err != nil {
		return err
	}
	if err := s.deleteRecoveryPoint(ctx, rp); err != nil {
		return err
	}
	s.maintainLater(ctx, vaultName, TriggerRecoveryPointDeleted)
	return nil
}

func (s *Service) deleteRecoveryPoint(ctx context.Context, rp catalog.RecoveryPoint) error {
	v, err := s.db.Vault(ctx, rp.VaultName)
	if err != nil {
		return err
	}
	// Shared: a deletion runs beside jobs; it waits only while
	// maintenance (or the vault's deletion) holds the vault.
	l, err := s.leaseVault(ctx, v, vaults.Shared, "", true)
	if err != nil {
		return err
	}
	defer l.Release()
	// Vault first: if the catalog delete then fails, the next start's
	// reconciliation drops the stale entry; the reverse would resurrect it.
	if err := l.Vault().DeleteRecoveryPoint(ctx, rp.ID); err != nil && !errors.Is(err, vault.ErrNotFound) {
		return fmt.Errorf("delete recovery point %q: %w", rp.ARN, err)
	}
	if err := s.db.DeleteRecoveryPoint(ctx, rp.ARN); err != nil {
		return err
	}
	if err := s.db.DeleteAllTags(ctx, rp.ARN); err != nil {
		return err
	}
	s.log.Info("recovery point deleted", "rp", rp.ARN, "vault", rp.VaultName)
	return nil
}

// ExpireRecoveryPoints deletes every recovery point whose retention ended
// and queues a maintenance job for each vault concerned (it waits in the
// queue for a moment when no job uses the vault). One recovery point that
// cannot be deleted does not keep the others: it is reported and retried at
// the next call. It returns how many it deleted.
func (s *Service) ExpireRecoveryPoints(ctx context.Context) (int, error) {
	now := s.clock.Now()
	touched := map[string]bool{}
	failed := map[string]bool{}
	var errs []error
	n := 0
	for progress := true; progress; {
		due, _, err := s.db.ListRecoveryPoints(ctx, catalog.RecoveryPointFilter{DueBefore: now}, catalog.Page{Max: 100})
		if err != nil {
			return n, err
		}
		progress = false
		for _, rp := range due {
			if failed[rp.ARN] {
				continue
			}
			if err := s.deleteRecoveryPoint(ctx, rp); err != nil {
				failed[rp.ARN] = true
				errs = append(errs, fmt.Errorf("expire %s: %w", rp.ARN, err))
				continue
			}
			touched[rp.VaultName] = true
			progress = true
			n++
		}
	}
	for name := range touched {
		s.maintainLater(ctx, name, TriggerExpiry)
	}
	return n, errors.Join(errs...)
}
