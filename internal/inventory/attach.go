package inventory

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vaultstore"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// AttachVaultInput is the input of the attach extension.
type AttachVaultInput struct {
	// Path is a vault directory made by a coffer server with the same
	// master key; its name is the vault id (DATA_DIR/vaults/<id>).
	Path string
	// Name renames the vault; default the name it had.
	Name string
	// Location, instead of Path, is an S3-backed vault's
	// s3://CONNECTION/BUCKET[/PREFIX]/<vault id> (DescribeBackupVault's
	// StorageLocation on the server that made it).
	Location string
}

// AttachedVault is what AttachVault did.
type AttachedVault struct {
	Vault          catalog.Vault
	RecoveryPoints int
	// Moved: the directory was renamed into the vault store; otherwise it
	// was copied and verified (and is left where it was), or it was in
	// the store already.
	Moved bool
}

// AttachVault brings a vault directory made by another server into the
// vault store and registers it with its recovery points. The directory
// is checked (a vault, opened with this server's master key, whose name
// is free) before anything is moved. A directory of the store that the
// catalog skipped (its name was taken) is registered where it is.
func (inv *Inventory) AttachVault(ctx context.Context, in AttachVaultInput) (AttachedVault, error) {
	if in.Location != "" {
		return inv.attachS3(ctx, in)
	}
	if in.Path == "" {
		return AttachedVault{}, fmt.Errorf("%w: Path (the vault directory) is required", vocab.ErrMissingParameter)
	}
	if in.Name != "" && !vaultNameRE.MatchString(in.Name) {
		return AttachedVault{}, fmt.Errorf("%w: BackupVaultName %q must be 2 to 50 letters, digits, '-' or '_'", vocab.ErrInvalidParameter, in.Name)
	}
	importer, ok := inv.cfg.Store.(vaultstore.Importer)
	if !ok {
		return AttachedVault{}, fmt.Errorf("%w: this server's vault store cannot take in vault directories", vocab.ErrInvalidRequest)
	}
	inv.attachMu.Lock()
	defer inv.attachMu.Unlock()
	path, err := filepath.Abs(in.Path)
	if err != nil {
		return AttachedVault{}, fmt.Errorf("%w: path %q: %v", vocab.ErrInvalidParameter, in.Path, err)
	}
	id := filepath.Base(path)
	inPlace, err := inv.checkAttachable(ctx, path, id)
	if err != nil {
		return AttachedVault{}, err
	}
	if err := inv.checkForeignVault(ctx, path, id, in.Name); err != nil {
		return AttachedVault{}, err
	}
	imp := vaultstore.Imported{Undo: func() error { return nil }}
	if !inPlace {
		if imp, err = importer.Import(ctx, path, id); err != nil {
			return AttachedVault{}, fmt.Errorf("attach vault %q: %w", path, err)
		}
	}
	v, n, err := inv.registerAttached(ctx, id, in.Name)
	if err != nil {
		if uerr := imp.Undo(); uerr != nil {
			inv.cfg.Log.Error("attach failed and the vault could not be put back", "path", path, "id", id, "err", uerr)
		}
		return AttachedVault{}, fmt.Errorf("attach vault %q: %w", path, err)
	}
	inv.cfg.Log.Info("vault attached", "vault", v.Name, "id", id, "from", path, "moved", imp.Moved, "recovery_points", n)
	return AttachedVault{Vault: v, RecoveryPoints: n, Moved: imp.Moved}, nil
}

// checkAttachable refuses a vault id that the catalog or the store
// already has, except the store's own directory of an uncatalogued vault
// (inPlace).
func (inv *Inventory) checkAttachable(ctx context.Context, path, id string) (inPlace bool, err error) {
	if err := vaultstore.ValidID(id); err != nil {
		return false, fmt.Errorf("%w: %q is not a vault directory: its name must be the vault id (v-...)", vocab.ErrInvalidParameter, path)
	}
	known, err := inv.cfg.DB.AllVaults(ctx)
	if err != nil {
		return false, err
	}
	for _, v := range known {
		if v.ID == id {
			return false, fmt.Errorf("%w: vault id %s is already attached, as backup vault %q", vocab.ErrAlreadyExists, id, v.Name)
		}
	}
	ids, err := inv.cfg.Store.List(ctx)
	if err != nil {
		return false, err
	}
	if !slices.Contains(ids, id) {
		return false, nil
	}
	if filepath.Clean(inv.cfg.Store.Location(id)) == path {
		return true, nil
	}
	return false, fmt.Errorf("%w: vault id %s is already in this server's vault store (%s)", vocab.ErrAlreadyExists, id, inv.cfg.Store.Location(id))
}

// checkForeignVault opens the directory in place (its cache in a
// temporary directory) to check that it is a vault this master key opens
// and that its name, or newName, is free.
func (inv *Inventory) checkForeignVault(ctx context.Context, path, id, newName string) error {
	cache, err := os.MkdirTemp("", "coffer-attach-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(cache)
	vv, err := vault.Open(ctx, path, inv.cfg.Secret(id), vault.Options{CacheDir: cache})
	switch {
	case errors.Is(err, vault.ErrNotFound):
		return fmt.Errorf("%w: %q is not a coffer vault (no repository in it)", vocab.ErrInvalidParameter, path)
	case errors.Is(err, vault.ErrWrongPassword):
		return fmt.Errorf("%w: vault %q does not open with this server's master key: it was made by a server with another key, or its directory was renamed (the name must stay the vault id)", vocab.ErrInvalidParameter, path)
	case err != nil:
		return fmt.Errorf("%w: %q is not a vault coffer can open: %v", vocab.ErrInvalidParameter, path, err)
	}
	defer vv.Close(ctx) //nolint:errcheck // read-only use
	name := newName
	if name == "" {
		d, err := vv.Descriptor(ctx)
		if errors.Is(err, vault.ErrNotFound) {
			ms, lerr := vv.RecoveryPoints(ctx)
			if lerr != nil {
				return lerr
			}
			d, err = inv.guessDescriptor(id, ms)
		}
		if err != nil {
			return err
		}
		name = d.Name
	}
	if _, err := inv.cfg.DB.Vault(ctx, name); err == nil {
		return fmt.Errorf("backup vault %q: %w: attach this vault under another name (--name NEW)", name, vocab.ErrAlreadyExists)
	}
	return nil
}

// registerAttached opens vault id from the store and registers it; on
// failure whatever it registered is removed again.
func (inv *Inventory) registerAttached(ctx context.Context, id, newName string) (catalog.Vault, int, error) {
	vv, err := inv.cfg.Store.Open(ctx, id, inv.cfg.Secret(id))
	if err != nil {
		return catalog.Vault{}, 0, err
	}
	v, n, err := inv.registerVault(ctx, id, vv, newName)
	if err != nil {
		_ = vv.Close(ctx)
		if v.Name != "" {
			inv.unregisterVault(context.WithoutCancel(ctx), v.Name)
		}
		return catalog.Vault{}, 0, err
	}
	if err := inv.registry.Add(ctx, id, vv); err != nil {
		inv.cfg.Log.Warn("register vault", "vault", v.Name, "err", err)
	}
	if v, err = inv.cfg.DB.Vault(ctx, v.Name); err != nil { // with its counts
		return catalog.Vault{}, 0, err
	}
	return v, n, nil
}

// unregisterVault removes a half-registered vault and its recovery
// points from the catalog (its files stay).
func (inv *Inventory) unregisterVault(ctx context.Context, name string) {
	rps, err := catalog.AllPages(func(p catalog.Page) ([]catalog.RecoveryPoint, string, error) {
		return inv.cfg.DB.ListRecoveryPoints(ctx, catalog.RecoveryPointFilter{VaultName: name}, p)
	})
	for _, rp := range rps {
		err = errors.Join(err, inv.cfg.DB.DeleteRecoveryPoint(ctx, rp.ARN), inv.cfg.DB.DeleteAllTags(ctx, rp.ARN))
	}
	if err = errors.Join(err, inv.cfg.DB.DeleteVault(ctx, name)); err != nil {
		inv.cfg.Log.Error("remove half-attached vault from the catalog", "vault", name, "err", err)
	}
}

// attachS3 registers the S3-backed vault at in.Location: its directory
// in the store (the location file) first, then its catalog rows from its
// descriptor and recovery points; a failure removes both again.
func (inv *Inventory) attachS3(ctx context.Context, in AttachVaultInput) (AttachedVault, error) {
	if in.Name != "" && !vaultNameRE.MatchString(in.Name) {
		return AttachedVault{}, fmt.Errorf("%w: BackupVaultName %q must be 2 to 50 letters, digits, '-' or '_'", vocab.ErrInvalidParameter, in.Name)
	}
	l, err := vaultstore.ParseLocation(in.Location)
	if err != nil {
		return AttachedVault{}, fmt.Errorf("%w: %v", vocab.ErrInvalidParameter, err)
	}
	id := path.Base(l.Prefix)
	if l.Prefix == "" || vaultstore.ValidID(id) != nil {
		return AttachedVault{}, fmt.Errorf("%w: vault location %q must end with the vault id (s3://CONNECTION/BUCKET[/PREFIX]/<vault id>)", vocab.ErrInvalidParameter, in.Location)
	}
	l.Prefix = strings.TrimSuffix(strings.TrimSuffix(l.Prefix, id), "/")
	s3s, ok := inv.cfg.Store.(vaultstore.S3Store)
	if !ok {
		return AttachedVault{}, fmt.Errorf("%w: this server's vault store cannot keep vaults in S3", vocab.ErrInvalidRequest)
	}
	inv.attachMu.Lock()
	defer inv.attachMu.Unlock()
	if present, err := inv.cfg.Store.Exists(ctx, id); err != nil {
		return AttachedVault{}, err
	} else if present {
		return AttachedVault{}, fmt.Errorf("%w: vault id %s is already in this server's vault store", vocab.ErrAlreadyExists, id)
	}
	vv, err := s3s.AttachS3(ctx, id, inv.cfg.Secret(id), l)
	if err != nil {
		if errors.Is(err, vault.ErrWrongPassword) {
			return AttachedVault{}, fmt.Errorf("%w: the vault at %s does not open with this server's master key", vocab.ErrInvalidParameter, in.Location)
		}
		return AttachedVault{}, fmt.Errorf("%w: %v", vocab.ErrInvalidParameter, err)
	}
	_ = vv.Close(ctx) // registerAttached opens it through the store
	v, n, err := inv.registerAttached(ctx, id, in.Name)
	if err != nil {
		if derr := inv.cfg.Store.Delete(context.WithoutCancel(ctx), id); derr != nil {
			inv.cfg.Log.Error("remove the directory of a failed attach", "id", id, "err", derr)
		}
		return AttachedVault{}, err
	}
	v.StorageLocation = inv.storageLocation(id)
	inv.cfg.Log.Info("vault attached", "vault", v.Name, "location", v.StorageLocation, "recovery_points", n)
	return AttachedVault{Vault: v, RecoveryPoints: n, Moved: true}, nil
}
