package inventory

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/jobs"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vaults"
	"github.com/cofferbackup/coffer/internal/vaultstore"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// descriptorOf is what vault v records about itself.
func descriptorOf(v catalog.Vault) vault.Descriptor {
	return vault.Descriptor{ID: v.ID, Name: v.Name, ARN: v.ARN, CreatedAt: v.CreatedAt,
		CreatorRequestID: v.CreatorRequestID, EncryptionKeyARN: v.EncryptionKeyARN, VaultType: v.VaultType}
}

var vaultNameRE = regexp.MustCompile(`^[a-zA-Z0-9\-_]{2,50}$`)

// CreateVaultInput is CreateBackupVault's input.
type CreateVaultInput struct {
	Name             string
	Tags             map[string]string
	EncryptionKeyARN string
	CreatorRequestID string
	// VaultType is "" for a BACKUP_VAULT; a LOGICALLY_AIR_GAPPED_BACKUP_VAULT
	// comes with its Lock (package vaultlock validates both).
	VaultType string
	Lock      *vault.Lock
	// Location is s3://CONNECTION/BUCKET[/PREFIX] for a vault whose blobs
	// live in an S3 bucket; "" for the server's default.
	Location string
}

// CreateVault creates an empty, encrypted vault on local disk. A repeated
// call with the same CreatorRequestID returns the existing vault.
func (inv *Inventory) CreateVault(ctx context.Context, in CreateVaultInput) (catalog.Vault, error) {
	if !vaultNameRE.MatchString(in.Name) {
		return catalog.Vault{}, fmt.Errorf("%w: BackupVaultName %q must be 2 to 50 letters, digits, '-' or '_'", vocab.ErrInvalidParameter, in.Name)
	}
	if existing, err := inv.cfg.DB.Vault(ctx, in.Name); err == nil {
		if in.CreatorRequestID != "" && existing.CreatorRequestID == in.CreatorRequestID && existing.VaultType == in.VaultType {
			return existing, nil
		}
		return catalog.Vault{}, fmt.Errorf("backup vault %q: %w", in.Name, vocab.ErrAlreadyExists)
	}
	if err := vocab.ValidateTags(in.Tags); err != nil {
		return catalog.Vault{}, err
	}
	id := "v-" + vocab.NewID()
	vv, err := inv.createFiles(ctx, id, in)
	if err != nil {
		return catalog.Vault{}, err
	}
	v := catalog.Vault{
		Name: in.Name, ID: id, ARN: inv.cfg.Names.VaultARN(in.Name), CreatorRequestID: in.CreatorRequestID,
		EncryptionKeyARN: in.EncryptionKeyARN, Tags: in.Tags, CreatedAt: inv.cfg.Clock.Now(), VaultType: in.VaultType,
	}
	discard := func() {
		ctx := context.WithoutCancel(ctx)
		_ = vv.Close(ctx)
		if err := inv.cfg.Store.Delete(ctx, id); err != nil {
			inv.cfg.Log.Error("remove vault of a failed CreateBackupVault", "vault", in.Name, "id", id, "err", err)
		}
	}
	// The descriptor goes first: a crash before the catalog row leaves a
	// vault that the next start registers from it (docs/format.md), lock
	// included.
	d := descriptorOf(v)
	d.Lock = in.Lock
	if err := vv.PutDescriptor(ctx, d); err != nil {
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
	if err := inv.restoreLocks(ctx, v.Name, d, vv); err != nil {
		return catalog.Vault{}, err
	}
	if err := inv.registry.Add(ctx, v.ID, vv); err != nil {
		inv.cfg.Log.Warn("register new vault", "vault", v.Name, "err", err)
	}
	inv.cfg.Log.Info("vault created", "vault", v.Name, "location", inv.location(id))
	v.StorageLocation = inv.storageLocation(id)
	return v, nil
}

// createFiles makes vault id in the store: in its directory, or with its
// blobs in the S3 location asked for (or the server's default), under
// Object Lock when the bucket has it.
func (inv *Inventory) createFiles(ctx context.Context, id string, in CreateVaultInput) (*vault.Vault, error) {
	where := in.Location
	if where == "" {
		where = inv.cfg.DefaultLocation
	}
	if where == "" {
		vv, err := inv.cfg.Store.Create(ctx, id, inv.cfg.Secret(id))
		if err != nil {
			return nil, fmt.Errorf("create vault %q: %w", in.Name, err)
		}
		return vv, nil
	}
	l, err := vaultstore.ParseLocation(where)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", vocab.ErrInvalidParameter, err)
	}
	s3s, ok := inv.cfg.Store.(vaultstore.S3Store)
	if !ok || inv.cfg.Bucket == nil {
		return nil, fmt.Errorf("%w: this server's vault store cannot keep vaults in S3", vocab.ErrInvalidParameter)
	}
	info, err := inv.cfg.Bucket(ctx, l.Connection, l.Bucket)
	if err != nil {
		return nil, fmt.Errorf("%w: vault location %s: %v", vocab.ErrInvalidParameter, l, err)
	}
	var lock *vault.ObjectLock
	if info.ObjectLock {
		days := inv.cfg.ObjectLockDays
		if days <= 0 {
			days = DefaultObjectLockDays
		}
		mode := info.ObjectLockMode
		if mode == "" {
			mode = "GOVERNANCE" // the bucket says none: the one an administrator can lift
		}
		lock = &vault.ObjectLock{Mode: mode, Period: time.Duration(days) * 24 * time.Hour}
	}
	vv, err := s3s.CreateS3(ctx, id, inv.cfg.Secret(id), l, lock)
	if err != nil {
		return nil, fmt.Errorf("create vault %q: %w", in.Name, err)
	}
	return vv, nil
}

// DefaultObjectLockDays is the default rolling retention of an S3 vault's
// blobs on a bucket with Object Lock.
const DefaultObjectLockDays = 30

// VaultsOn counts the vaults whose data lives on connection conn.
func (inv *Inventory) VaultsOn(ctx context.Context, conn string) (int, error) {
	s3s, ok := inv.cfg.Store.(vaultstore.S3Store)
	if !ok {
		return 0, nil
	}
	ids, err := inv.cfg.Store.List(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		l, ok, err := s3s.VaultLocation(id)
		if err != nil {
			return 0, err
		}
		if ok && l.Connection == conn {
			n++
		}
	}
	return n, nil
}

// location describes where vault id lives, for logs.
func (inv *Inventory) location(id string) string {
	if l := inv.storageLocation(id); l != "" {
		return l
	}
	return inv.cfg.Store.Location(id)
}

// storageLocation is s3://CONNECTION/BUCKET[/PREFIX]/<vault id> for a
// vault whose blobs are in S3, else "".
func (inv *Inventory) storageLocation(id string) string {
	if s3s, ok := inv.cfg.Store.(vaultstore.S3Store); ok {
		if l, ok, err := s3s.VaultLocation(id); err == nil && ok {
			return l.String() + "/" + id // what coffer vault attach --location takes
		}
	}
	return ""
}

// Vault describes one vault.
func (inv *Inventory) Vault(ctx context.Context, name string) (catalog.Vault, error) {
	v, err := inv.cfg.DB.Vault(ctx, name)
	if errors.Is(err, catalog.ErrNotFound) {
		return catalog.Vault{}, fmt.Errorf("backup vault %q: %w", name, vocab.ErrNotFound)
	}
	v.StorageLocation = inv.storageLocation(v.ID)
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
//
// A vault whose files vanished (the store says it is not there) is
// deleted from the catalog with its recovery points, whose data went with
// the files (deleteVanishedVault). A vault the store cannot look at is not
// taken for a vanished one: the error is returned and nothing changes.
func (inv *Inventory) DeleteVault(ctx context.Context, name string) error {
	v, err := inv.Vault(ctx, name)
	if err != nil {
		return err
	}
	switch present, err := inv.cfg.Store.Exists(ctx, v.ID); {
	case err != nil:
		return fmt.Errorf("delete vault %q: %w", name, err)
	case !present:
		return inv.deleteVanishedVault(ctx, v)
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

// deleteVanishedVault deletes vault v, whose files are gone, from the
// catalog: its recovery points (nothing can restore them any more), its
// tags, its row. It still refuses while a backup job is active or a live
// plan targets it. Should the files come back (a disk mounted again) after
// all, the next start registers the vault and its recovery points from
// them, as for any vault the catalog lacks.
func (inv *Inventory) deleteVanishedVault(ctx context.Context, v catalog.Vault) error {
	if err := inv.checkNoActiveJob(ctx, v); err != nil {
		return err
	}
	// Exclusive, so no job of this process starts on it meanwhile; there
	// are no files to open.
	l, err := inv.registry.Hold(ctx, v.ID, vaults.Exclusive, PurposeDeletion)
	if err != nil {
		return fmt.Errorf("backup vault %q: %w", v.Name, err)
	}
	defer l.Release()
	if v, err = inv.Vault(ctx, v.Name); err != nil {
		return err
	}
	if present, err := inv.cfg.Store.Exists(ctx, v.ID); err != nil {
		return fmt.Errorf("delete vault %q: %w", v.Name, err)
	} else if present {
		return fmt.Errorf("%w: the files of backup vault %q reappeared while it was being deleted; try again", vocab.ErrInvalidRequest, v.Name)
	}
	if err := inv.checkNoActiveJob(ctx, v); err != nil {
		return err
	}
	if inv.cfg.Targeted != nil {
		if err := inv.cfg.Targeted(ctx, v.Name); err != nil {
			return err
		}
	}
	dropped, err := inv.dropRecoveryPointRows(ctx, v.Name)
	if err != nil {
		return err
	}
	if err := inv.cfg.DB.DeleteAllTags(ctx, v.ARN); err != nil {
		return err
	}
	if err := inv.cfg.DB.DeleteVault(ctx, v.Name); err != nil {
		return err
	}
	if err := l.Delete(ctx); err != nil {
		inv.cfg.Log.Warn("close deleted vault", "vault", v.Name, "err", err)
	}
	inv.cfg.Log.Warn("vault deleted whose files had vanished", "vault", v.Name, "location", inv.cfg.Store.Location(v.ID),
		"recovery_points_dropped", dropped)
	return nil
}

// dropRecoveryPointRows deletes the catalog entries (and tags) of every
// recovery point of vault name and returns how many there were.
func (inv *Inventory) dropRecoveryPointRows(ctx context.Context, name string) (int, error) {
	n := 0
	for {
		// Always the first page: the previous one was just deleted.
		rps, _, err := inv.cfg.DB.ListRecoveryPoints(ctx, catalog.RecoveryPointFilter{VaultName: name}, catalog.Page{Max: 1000})
		if err != nil || len(rps) == 0 {
			return n, err
		}
		for _, rp := range rps {
			if err := inv.cfg.DB.DeleteAllTags(ctx, rp.ARN); err != nil {
				return n, err
			}
			if err := inv.cfg.DB.DeleteRecoveryPoint(ctx, rp.ARN); err != nil {
				return n, err
			}
			n++
		}
	}
}

// checkVaultEmpty refuses a vault with catalogued recovery points or
// active backup jobs.
func (inv *Inventory) checkVaultEmpty(ctx context.Context, v catalog.Vault) error {
	if v.RecoveryPoints > 0 {
		return fmt.Errorf("%w: backup vault %q still holds %d recovery points; delete them first", vocab.ErrInvalidRequest, v.Name, v.RecoveryPoints)
	}
	return inv.checkNoActiveJob(ctx, v)
}

// checkNoActiveJob refuses a vault with an active backup job or an
// active copy job into it.
func (inv *Inventory) checkNoActiveJob(ctx context.Context, v catalog.Vault) error {
	active, _, err := inv.cfg.Jobs.ListBackupJobs(ctx, jobstore.BackupJobFilter{VaultName: v.Name, States: jobs.ActiveBackupStates}, catalog.Page{Max: 1})
	if err != nil {
		return err
	}
	if len(active) > 0 {
		return fmt.Errorf("%w: backup vault %q has a backup job in progress (%s)", vocab.ErrInvalidRequest, v.Name, active[0].ID)
	}
	copies, _, err := inv.cfg.Jobs.ListCopyJobs(ctx, jobstore.CopyJobFilter{DestinationVaultARN: v.ARN, States: []string{jobs.StateCreated, jobs.StateRunning}}, catalog.Page{Max: 1})
	if err != nil {
		return err
	}
	if len(copies) > 0 {
		return fmt.Errorf("%w: backup vault %q has a copy job into it in progress (%s)", vocab.ErrInvalidRequest, v.Name, copies[0].ID)
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
