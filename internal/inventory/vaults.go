package inventory

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/jobs"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vaults"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// descriptorOf is what vault v records about itself.
func descriptorOf(v catalog.Vault) vault.Descriptor {
	return vault.Descriptor{ID: v.ID, Name: v.Name, ARN: v.ARN, CreatedAt: v.CreatedAt,
		CreatorRequestID: v.CreatorRequestID, EncryptionKeyARN: v.EncryptionKeyARN}
}

var vaultNameRE = regexp.MustCompile(`^[a-zA-Z0-9\-_]{2,50}$`)

// CreateVaultInput is CreateBackupVault's input.
type CreateVaultInput struct {
	Name             string
	Tags             map[string]string
	EncryptionKeyARN string
	CreatorRequestID string
}

// CreateVault creates an empty, encrypted vault on local disk. A repeated
// call with the same CreatorRequestID returns the existing vault.
func (inv *Inventory) CreateVault(ctx context.Context, in CreateVaultInput) (catalog.Vault, error) {
	if !vaultNameRE.MatchString(in.Name) {
		return catalog.Vault{}, fmt.Errorf("%w: BackupVaultName %q must be 2 to 50 letters, digits, '-' or '_'", vocab.ErrInvalidParameter, in.Name)
	}
	if existing, err := inv.cfg.DB.Vault(ctx, in.Name); err == nil {
		if in.CreatorRequestID != "" && existing.CreatorRequestID == in.CreatorRequestID {
			return existing, nil
		}
		return catalog.Vault{}, fmt.Errorf("backup vault %q: %w", in.Name, vocab.ErrAlreadyExists)
	}
	if err := vocab.ValidateTags(in.Tags); err != nil {
		return catalog.Vault{}, err
	}
	id := "v-" + vocab.NewID()
	vv, err := inv.cfg.Store.Create(ctx, id, inv.cfg.Secret(id))
	if err != nil {
		return catalog.Vault{}, fmt.Errorf("create vault %q: %w", in.Name, err)
	}
	v := catalog.Vault{
		Name: in.Name, ID: id, ARN: inv.cfg.Names.VaultARN(in.Name), CreatorRequestID: in.CreatorRequestID,
		EncryptionKeyARN: in.EncryptionKeyARN, Tags: in.Tags, CreatedAt: inv.cfg.Clock.Now(),
	}
	discard := func() {
		ctx := context.WithoutCancel(ctx)
		_ = vv.Close(ctx)
		if err := inv.cfg.Store.Delete(ctx, id); err != nil {
			inv.cfg.Log.Error("remove vault of a failed CreateBackupVault", "vault", in.Name, "id", id, "err", err)
		}
	}
	// The descriptor goes first: a crash before the catalog row leaves a
	// vault that the next start registers from it (docs/format.md).
	if err := vv.PutDescriptor(ctx, descriptorOf(v)); err != nil {
		discard()
		return catalog.Vault{}, fmt.Errorf("create vault %q: %w", in.Name, err)
	}
	if err := inv.cfg.DB.CreateVault(ctx, v); err != nil {
		discard()
		if errors.Is(err, catalog.ErrExists) {
			return catalog.Vault{}, fmt.Errorf("backup vault %q: %w", in.Name, vocab.ErrAlreadyExists)
		}
		return catalog.Vault{}, err
	}
	if err := inv.cfg.DB.SetTags(ctx, v.ARN, in.Tags); err != nil {
		return catalog.Vault{}, err
	}
	if err := inv.registry.Add(ctx, v.ID, vv); err != nil {
		inv.cfg.Log.Warn("register new vault", "vault", v.Name, "err", err)
	}
	inv.cfg.Log.Info("vault created", "vault", v.Name, "location", inv.cfg.Store.Location(id))
	return v, nil
}

// Vault describes one vault.
func (inv *Inventory) Vault(ctx context.Context, name string) (catalog.Vault, error) {
	v, err := inv.cfg.DB.Vault(ctx, name)
	if errors.Is(err, catalog.ErrNotFound) {
		return catalog.Vault{}, fmt.Errorf("backup vault %q: %w", name, vocab.ErrNotFound)
	}
	return v, err
}

// ListVaults lists vaults by name.
func (inv *Inventory) ListVaults(ctx context.Context, p catalog.Page) ([]catalog.Vault, string, error) {
	return inv.cfg.DB.ListVaults(ctx, p)
}

// DeleteVault deletes an empty vault and its files. It refuses a vault
// that holds recovery points, has active jobs or is a live plan's target.
// The checks run again under the vault's exclusive lease, so a job that
// starts meanwhile either makes the delete fail or fails itself ("vault was
// deleted"); files are never removed under a running job.
func (inv *Inventory) DeleteVault(ctx context.Context, name string) error {
	v, err := inv.Vault(ctx, name)
	if err != nil {
		return err
	}
	if err := inv.checkVaultEmpty(ctx, v); err != nil {
		return err // refuse at once, without waiting for the lock
	}
	// Waits for maintenance and for jobs that just started to leave.
	l, err := inv.Lease(ctx, v, vaults.Exclusive, PurposeDeletion, true)
	if err != nil {
		return err
	}
	defer l.Release()
	if v, err = inv.Vault(ctx, name); err != nil {
		return err
	}
	if err := inv.checkVaultEmpty(ctx, v); err != nil {
		return err
	}
	if err := inv.checkVaultUnused(ctx, v, l.Vault()); err != nil {
		return err
	}
	if err := inv.cfg.DB.DeleteVault(ctx, name); err != nil {
		return err
	}
	// From here on, a job that waited for the vault fails cleanly.
	if err := l.Delete(ctx); err != nil {
		inv.cfg.Log.Warn("close deleted vault", "vault", name, "err", err)
	}
	if err := inv.cfg.DB.DeleteAllTags(ctx, v.ARN); err != nil {
		return err
	}
	// After the catalog row: a crash in between leaves an empty vault
	// that the next start registers again, never a row without a vault.
	if err := inv.cfg.Store.Delete(ctx, v.ID); err != nil {
		return fmt.Errorf("delete vault %q files: %w", name, err)
	}
	inv.cfg.Log.Info("vault deleted", "vault", name)
	return nil
}

// checkVaultEmpty refuses a vault with catalogued recovery points or
// active backup jobs.
func (inv *Inventory) checkVaultEmpty(ctx context.Context, v catalog.Vault) error {
	if v.RecoveryPoints > 0 {
		return fmt.Errorf("%w: backup vault %q still holds %d recovery points; delete them first", vocab.ErrInvalidRequest, v.Name, v.RecoveryPoints)
	}
	active, _, err := inv.cfg.DB.ListBackupJobs(ctx, catalog.BackupJobFilter{VaultName: v.Name, States: jobs.ActiveBackupStates}, catalog.Page{Max: 1})
	if err != nil {
		return err
	}
	if len(active) > 0 {
		return fmt.Errorf("%w: backup vault %q has a backup job in progress (%s)", vocab.ErrInvalidRequest, v.Name, active[0].ID)
	}
	return nil
}

// checkVaultUnused refuses to delete a vault that a live plan targets (its
// next run would fail) or whose files still hold recovery points the
// catalog lost track of (the vault, not the catalog, is the truth).
func (inv *Inventory) checkVaultUnused(ctx context.Context, v catalog.Vault, vv *vault.Vault) error {
	if inv.cfg.Targeted != nil {
		if err := inv.cfg.Targeted(ctx, v.Name); err != nil {
			return err
		}
	}
	rps, err := vv.RecoveryPoints(ctx)
	if err != nil {
		return fmt.Errorf("list recovery points of vault %q: %w", v.Name, err)
	}
	if len(rps) > 0 {
		return fmt.Errorf("%w: backup vault %q still holds %d recovery points; delete them first", vocab.ErrInvalidRequest, v.Name, len(rps))
	}
	return nil
}
