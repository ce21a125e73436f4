package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vaults"
)

// recover brings the catalog in line with the vaults after a start: the
// vaults are the source of truth for vaults and recovery points (the
// catalog's vaults are reconciled with their files, then the vaults the
// catalog lacks are registered from theirs), and jobs that a previous
// process left unfinished are resumed, completed or failed.
func (s *Service) recover(ctx context.Context) error {
	vaults, err := s.db.AllVaults(ctx)
	if err != nil {
		return err
	}
	for _, v := range vaults {
		if err := s.reconcileVault(ctx, v); err != nil {
			// One broken vault must not keep the others from serving.
			s.log.Error("reconcile vault", "vault", v.Name, "err", err)
		}
	}
	if err := s.rebuildFromStore(ctx); err != nil {
		return fmt.Errorf("rebuild catalog from the vault store: %w", err)
	}
	return s.recoverJobs(ctx)
}

func (s *Service) reconcileVault(ctx context.Context, v catalog.Vault) error {
	l, err := s.leaseVault(ctx, v, vaults.Shared, "", true)
	if err != nil {
		return err
	}
	defer l.Release()
	// A vault made before vaults described themselves gets its descriptor
	// now, so that it can be rebuilt from its files too.
	if _, err := l.Vault().Descriptor(ctx); errors.Is(err, vault.ErrNotFound) {
		if err := l.Vault().PutDescriptor(ctx, descriptorOf(v)); err != nil {
			return err
		}
		s.log.Info("vault descriptor written", "vault", v.Name)
	} else if err != nil {
		return err
	}
	manifests, err := l.Vault().RecoveryPoints(ctx)
	if err != nil {
		return fmt.Errorf("list recovery points of vault %q: %w", v.Name, err)
	}
	var tags map[string]vault.RecoveryPointTags
	inVault := map[string]bool{}
	for _, m := range manifests {
		inVault[m.ARN] = true
		if _, err := s.db.RecoveryPoint(ctx, v.Name, m.ARN); err == nil {
			continue
		}
		if tags == nil {
			if tags, err = l.Vault().AllRecoveryPointTags(ctx); err != nil {
				return err
			}
		}
		if err := s.registerFromVault(ctx, v.Name, m, tags); err != nil {
			return err
		}
		s.log.Warn("recovery point found in vault but not in catalog; registered", "vault", v.Name, "rp", m.ARN)
	}
	p := catalog.Page{Max: 1000}
	for {
		rps, tok, err := s.db.ListRecoveryPoints(ctx, catalog.RecoveryPointFilter{VaultName: v.Name}, p)
		if err != nil {
			return err
		}
		for _, rp := range rps {
			if inVault[rp.ARN] {
				continue
			}
			s.log.Warn("recovery point in catalog but not in vault; dropped from catalog", "vault", v.Name, "rp", rp.ARN)
			if err := s.db.DeleteRecoveryPoint(ctx, rp.ARN); err != nil {
				return err
			}
		}
		if tok == "" {
			return nil
		}
		p.Token = tok
	}
}

// recoverJobs settles the jobs a previous process left unfinished (see
// takeOver): on SQLite the data-directory lock proves that no other
// process runs, so every job owned by another process is taken over at
// once.
func (s *Service) recoverJobs(ctx context.Context) error {
	dead := s.othersDead
	if s.shared() {
		// Other live processes share the catalog: only the jobs of dead
		// ones are taken over (the rest by the leader's periodic pass once
		// their owners fall silent).
		dead = s.silentDead
	}
	n, err := s.takeOver(ctx, dead)
	if n > 0 {
		s.log.Warn("jobs of a previous process taken over", "count", n)
	}
	return err
}

// allPages collects every page of a listing (newest first, as listed).
func allPages[T any](list func(catalog.Page) ([]T, string, error)) ([]T, error) {
	var all []T
	p := catalog.Page{Max: 1000}
	for {
		items, tok, err := list(p)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if tok == "" {
			return all, nil
		}
		p.Token = tok
	}
}
