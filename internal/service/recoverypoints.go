package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vaults"
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
		rp.DeleteAt = m.CreatedAt.Add(time.Duration(m.DeleteAfterDays) * 24 * time.Hour)
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
// catalog, then reclaims its space in the background.
func (s *Service) DeleteRecoveryPoint(ctx context.Context, vaultName, arn string) error {
	rp, err := s.RecoveryPoint(ctx, vaultName, arn)
	if err != nil {
		return err
	}
	if err := s.deleteRecoveryPoint(ctx, rp); err != nil {
		return err
	}
	s.maintainLater(vaultName)
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
// and starts reclaiming space in the vaults concerned (in the background:
// maintenance waits for a moment when no job uses the vault). One recovery point that
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
		s.maintainLater(name)
	}
	return n, errors.Join(errs...)
}

// MaintainVault reclaims the space of deleted recovery points. It takes
// the vault's lease exclusively: it waits (bounded by ctx) for a moment
// when no job uses the vault, without holding off jobs that start
// meanwhile; while it runs, jobs of the vault wait in the queue (PENDING).
func (s *Service) MaintainVault(ctx context.Context, name string) (vault.MaintenanceStats, error) {
	v, err := s.Vault(ctx, name)
	if err != nil {
		return vault.MaintenanceStats{}, err
	}
	l, err := s.leaseVault(ctx, v, vaults.Exclusive, purposeMaintenance, true)
	if err != nil {
		return vault.MaintenanceStats{}, err
	}
	defer l.Release()
	if h := s.cfg.TestHooks; h != nil && h.MaintenanceHeld != nil {
		h.MaintenanceHeld(ctx, name)
	}
	st, err := l.Vault().Maintain(ctx)
	if err != nil {
		return st, fmt.Errorf("maintain vault %q: %w", name, err)
	}
	s.log.Info("vault maintained", "vault", name, "live_recovery_points", st.LiveRecoveryPoints,
		"deleted_contents", st.DeletedContents, "freed_bytes", st.FreedBytes)
	return st, nil
}

// maintainLater runs MaintainVault in the background, at most once at a
// time per vault: a request while one runs is dropped, since that run (or
// the next expiry) reclaims the space too.
func (s *Service) maintainLater(name string) {
	s.mu.Lock()
	if s.maintaining[name] || s.ctx.Err() != nil {
		s.mu.Unlock()
		return
	}
	s.maintaining[name] = true
	s.bg.Add(1) // under mu: Close cancels s.ctx under mu before it waits
	s.mu.Unlock()
	go func() {
		defer s.bg.Done()
		defer func() {
			s.mu.Lock()
			delete(s.maintaining, name)
			s.mu.Unlock()
		}()
		if _, err := s.MaintainVault(s.ctx, name); err != nil && s.ctx.Err() == nil {
			s.log.Error("vault maintenance failed", "vault", name, "err", err)
		}
	}()
}
