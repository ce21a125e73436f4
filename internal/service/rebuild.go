package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/vault"
)

// rebuildFromStore registers every vault of the store that the catalog
// lacks (a lost catalog, or a vault whose CreateBackupVault crashed after
// its descriptor was written), each with its recovery points. A vault
// that cannot be registered is logged and skipped; the others go on.
func (s *Service) rebuildFromStore(ctx context.Context) error {
	ids, err := s.store.List(ctx)
	if err != nil {
		return err
	}
	known, err := s.db.AllVaults(ctx)
	if err != nil {
		return err
	}
	catalogued := map[string]bool{}
	for _, v := range known {
		catalogued[v.ID] = true
	}
	vaults, rps, skipped := 0, 0, 0
	for _, id := range ids {
		if catalogued[id] {
			continue
		}
		v, n, err := s.rebuildVault(ctx, id)
		if err != nil {
			s.log.Error("vault found in the vault store but not registered", "id", id,
				"location", s.store.Location(id), "err", err)
			skipped++
			continue
		}
		s.log.Info("vault registered from its files", "vault", v.Name, "id", id, "recovery_points", n)
		vaults++
		rps += n
	}
	if vaults > 0 || skipped > 0 {
		s.log.Info("catalog rebuilt from the vault store", "vaults", vaults, "recovery_points", rps, "vaults_skipped", skipped)
	}
	return nil
}

// rebuildVault opens vault id of the store and registers it.
func (s *Service) rebuildVault(ctx context.Context, id string) (catalog.Vault, int, error) {
	vv, err := s.store.Open(ctx, id, vaultSecret(s.cfg.MasterKey, id))
	if err != nil {
		return catalog.Vault{}, 0, err
	}
	v, n, err := s.registerVault(ctx, id, vv, "")
	if err != nil {
		_ = vv.Close(ctx)
		return catalog.Vault{}, 0, err
	}
	if err := s.registry.Add(ctx, id, vv); err != nil {
		s.log.Warn("register vault", "vault", v.Name, "err", err)
	}
	return v, n, nil
}

// registerVault adds the open vault vv (id) to the catalog from its
// descriptor, then its recovery points from their manifests. newName,
// when not "", renames it (attach --name); the vault's descriptor is
// rewritten then, and written when the vault predates descriptors, so
// that the vault describes itself as the catalog does.
func (s *Service) registerVault(ctx context.Context, id string, vv *vault.Vault, newName string) (catalog.Vault, int, error) {
	manifests, err := vv.RecoveryPoints(ctx)
	if err != nil {
		return catalog.Vault{}, 0, err
	}
	d, err := vv.Descriptor(ctx)
	rewrite := errors.Is(err, vault.ErrNotFound)
	switch {
	case rewrite:
		if d, err = s.guessDescriptor(id, manifests); err != nil {
			return catalog.Vault{}, 0, err
		}
	case err != nil:
		return catalog.Vault{}, 0, err
	case d.ID != id:
		return catalog.Vault{}, 0, fmt.Errorf("%w: the vault's descriptor names vault id %q, not %q", ErrInvalidParameter, d.ID, id)
	}
	if newName != "" && newName != d.Name {
		d.Name, d.ARN, rewrite = newName, s.vaultARN(newName), true
	}
	if other, err := s.db.Vault(ctx, d.Name); err == nil {
		return catalog.Vault{}, 0, fmt.Errorf("backup vault %q: %w: the name is taken by vault id %s; attach under another name (--name)", d.Name, ErrAlreadyExists, other.ID)
	}
	if rewrite {
		if err := vv.PutDescriptor(ctx, d); err != nil {
			return catalog.Vault{}, 0, err
		}
	}
	v := catalog.Vault{Name: d.Name, ID: id, ARN: d.ARN, CreatorRequestID: d.CreatorRequestID,
		EncryptionKeyARN: d.EncryptionKeyARN, CreatedAt: d.CreatedAt}
	if err := s.db.CreateVault(ctx, v); err != nil {
		if errors.Is(err, catalog.ErrExists) {
			return catalog.Vault{}, 0, fmt.Errorf("backup vault %q: %w", d.Name, ErrAlreadyExists)
		}
		return catalog.Vault{}, 0, err
	}
	tags, err := vv.AllRecoveryPointTags(ctx)
	if err != nil {
		return v, 0, err
	}
	for _, m := range manifests {
		if err := s.registerFromVault(ctx, v.Name, m, tags); err != nil {
			return v, 0, err
		}
	}
	v.RecoveryPoints = int64(len(manifests))
	return v, len(manifests), nil
}

// guessDescriptor describes a vault made before vaults had descriptors
// from its recovery points: their vault name, and the oldest one's time
// as the creation time. A vault with none tells nothing.
func (s *Service) guessDescriptor(id string, manifests []recpoint.Manifest) (vault.Descriptor, error) {
	if len(manifests) == 0 {
		return vault.Descriptor{}, fmt.Errorf("%w: vault %s has no descriptor and no recovery point: nothing tells its name", ErrInvalidParameter, id)
	}
	name := manifests[0].VaultName // oldest first
	s.log.Warn("vault has no descriptor; described from its recovery points", "id", id, "vault", name)
	return vault.Descriptor{Version: vault.DescriptorVersion, ID: id, Name: name, ARN: s.vaultARN(name),
		CreatedAt: manifests[0].CreatedAt}, nil
}

// registerFromVault indexes recovery point m of vault vaultName with its
// current tags: those recorded after the backup if any, else the backup's.
func (s *Service) registerFromVault(ctx context.Context, vaultName string, m recpoint.Manifest, tags map[string]vault.RecoveryPointTags) error {
	m.VaultName = vaultName // the vault may have been attached under a new name
	if err := s.registerRecoveryPoint(ctx, m); err != nil {
		return err
	}
	t, ok := tags[m.ID]
	if !ok {
		return nil
	}
	if err := s.db.DeleteAllTags(ctx, m.ARN); err != nil {
		return err
	}
	return s.db.SetTags(ctx, m.ARN, t.Tags)
}
