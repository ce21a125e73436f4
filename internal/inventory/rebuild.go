package inventory

import (
	"context"
	"errors"
	"fmt"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// rebuildFromStore registers every vault of the store that the catalog
// lacks (a lost catalog, or a vault whose CreateBackupVault crashed after
// its descriptor was written), each with its recovery points. A vault
// that cannot be registered is logged and skipped; the others go on.
func (inv *Inventory) rebuildFromStore(ctx context.Context) error {
	ids, err := inv.cfg.Store.List(ctx)
	if err != nil {
		return err
	}
	known, err := inv.cfg.DB.AllVaults(ctx)
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
		v, n, err := inv.rebuildVault(ctx, id)
		if err != nil {
			inv.cfg.Log.Error("vault found in the vault store but not registered", "id", id,
				"location", inv.cfg.Store.Location(id), "err", err)
			skipped++
			continue
		}
		inv.cfg.Log.Info("vault registered from its files", "vault", v.Name, "id", id, "recovery_points", n)
		vaults++
		rps += n
	}
	if vaults > 0 || skipped > 0 {
		inv.cfg.Log.Info("catalog rebuilt from the vault store", "vaults", vaults, "recovery_points", rps, "vaults_skipped", skipped)
	}
	return nil
}

// rebuildVault opens vault id of the store and registers it.
func (inv *Inventory) rebuildVault(ctx context.Context, id string) (catalog.Vault, int, error) {
	vv, err := inv.cfg.Store.Open(ctx, id, inv.cfg.Secret(id))
	if err != nil {
		return catalog.Vault{}, 0, err
	}
	v, n, err := inv.registerVault(ctx, id, vv, "")
	if err != nil {
		_ = vv.Close(ctx)
		return catalog.Vault{}, 0, err
	}
	if err := inv.registry.Add(ctx, id, vv); err != nil {
		inv.cfg.Log.Warn("register vault", "vault", v.Name, "err", err)
	}
	return v, n, nil
}

// registerVault adds the open vault vv (id) to the catalog from its
// descriptor, then its recovery points from their manifests. newName,
// when not "", renames it (attach --name); the vault's descriptor is
// rewritten then, and written when the vault predates descriptors, so
// that the vault describes itself as the catalog does.
func (inv *Inventory) registerVault(ctx context.Context, id string, vv *vault.Vault, newName string) (catalog.Vault, int, error) {
	manifests, err := vv.RecoveryPoints(ctx)
	if err != nil {
		return catalog.Vault{}, 0, err
	}
	d, err := vv.Descriptor(ctx)
	rewrite := errors.Is(err, vault.ErrNotFound)
	switch {
	case rewrite:
		if d, err = inv.guessDescriptor(id, manifests); err != nil {
			return catalog.Vault{}, 0, err
		}
	case err != nil:
		return catalog.Vault{}, 0, err
	case d.ID != id:
		return catalog.Vault{}, 0, fmt.Errorf("%w: the vault's descriptor names vault id %q, not %q", vocab.ErrInvalidParameter, d.ID, id)
	}
	if newName != "" && newName != d.Name {
		d.Name, d.ARN, rewrite = newName, inv.cfg.Names.VaultARN(newName), true
	}
	if other, err := inv.cfg.DB.Vault(ctx, d.Name); err == nil {
		return catalog.Vault{}, 0, fmt.Errorf("backup vault %q: %w: the name is taken by vault id %s; attach under another name (--name)", d.Name, vocab.ErrAlreadyExists, other.ID)
	}
	if rewrite {
		if err := vv.PutDescriptor(ctx, d); err != nil {
			return catalog.Vault{}, 0, err
		}
	}
	v := catalog.Vault{Name: d.Name, ID: id, ARN: d.ARN, CreatorRequestID: d.CreatorRequestID,
		EncryptionKeyARN: d.EncryptionKeyARN, CreatedAt: d.CreatedAt, VaultType: d.VaultType}
	if err := inv.cfg.DB.CreateVault(ctx, v); err != nil {
		if errors.Is(err, catalog.ErrExists) {
			return catalog.Vault{}, 0, fmt.Errorf("backup vault %q: %w", d.Name, vocab.ErrAlreadyExists)
		}
		return catalog.Vault{}, 0, err
	}
	ov, err := readOverrides(ctx, vv)
	if err != nil {
		return v, 0, err
	}
	for _, m := range manifests {
		if err := inv.registerFromVault(ctx, v.Name, m, ov); err != nil {
			return v, 0, err
		}
	}
	continuous, err := inv.continuousInVault(ctx, v.Name, vv)
	if err != nil {
		return v, 0, err
	}
	if err := inv.restoreLocks(ctx, v.Name, d, vv); err != nil {
		return v, 0, err
	}
	v.RecoveryPoints = int64(len(manifests) + len(continuous))
	return v, len(manifests) + len(continuous), nil
}

// guessDescriptor describes a vault made before vaults had descriptors
// from its recovery points: their vault name, and the oldest one's time
// as the creation time. A vault with none tells nothing.
func (inv *Inventory) guessDescriptor(id string, manifests []recpoint.Manifest) (vault.Descriptor, error) {
	if len(manifests) == 0 {
		return vault.Descriptor{}, fmt.Errorf("%w: vault %s has no descriptor and no recovery point: nothing tells its name", vocab.ErrInvalidParameter, id)
	}
	name := manifests[0].VaultName // oldest first
	inv.cfg.Log.Warn("vault has no descriptor; described from its recovery points", "id", id, "vault", name)
	return vault.Descriptor{Version: vault.DescriptorVersion, ID: id, Name: name, ARN: inv.cfg.Names.VaultARN(name),
		CreatedAt: manifests[0].CreatedAt}, nil
}

// overrides are what a vault records of its recovery points after their
// backup: tags and retention changed since.
type overrides struct {
	tags       map[string]vault.RecoveryPointTags
	lifecycles map[string]vault.RecoveryPointLifecycle
}

func readOverrides(ctx context.Context, vv *vault.Vault) (overrides, error) {
	tags, err := vv.AllRecoveryPointTags(ctx)
	if err != nil {
		return overrides{}, err
	}
	lcs, err := vv.AllRecoveryPointLifecycles(ctx)
	return overrides{tags: tags, lifecycles: lcs}, err
}

// registerFromVault indexes recovery point m of vault vaultName with its
// current tags and retention: those recorded after the backup if any,
// else the backup's.
func (inv *Inventory) registerFromVault(ctx context.Context, vaultName string, m recpoint.Manifest, ov overrides) error {
	m.VaultName = vaultName // the vault may have been attached under a new name
	if lc, ok := ov.lifecycles[m.ID]; ok {
		m.DeleteAfterDays = lc.DeleteAfterDays
	}
	if err := inv.RegisterRecoveryPoint(ctx, m); err != nil {
		return err
	}
	t, ok := ov.tags[m.ID]
	if !ok {
		return nil
	}
	if err := inv.cfg.DB.DeleteAllTags(ctx, m.ARN); err != nil {
		return err
	}
	return inv.cfg.DB.SetTags(ctx, m.ARN, t.Tags)
}
