package service

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vaultstore"
)

// AttachVaultInput is the input of the attach extension.
type AttachVaultInput struct {
	// Path is a vault directory made by a coffer server with the same
	// master key; its name is the vault id (DATA_DIR/vaults/<id>).
	Path string
	// Name renames the vault; default the name it had.
	Name string
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
func (s *Service) AttachVault(ctx context.Context, in AttachVaultInput) (AttachedVault, error) {
	if in.Path == "" {
		return AttachedVault{}, fmt.Errorf("%w: Path (the vault directory) is required", ErrMissingParameter)
	}
	if in.Name != "" && !vaultNameRE.MatchString(in.Name) {
		return AttachedVault{}, fmt.Errorf("%w: BackupVaultName %q must be 2 to 50 letters, digits, '-' or '_'", ErrInvalidParameter, in.Name)
	}
	importer, ok := s.store.(vaultstore.Importer)
	if !ok {
		return AttachedVault{}, fmt.Errorf("%w: this server's vault store cannot take in vault directories", ErrInvalidRequest)
	}
	s.attachMu.Lock()
	defer s.attachMu.Unlock()
	path, err := filepath.Abs(in.Path)
	if err != nil {
		return AttachedVault{}, fmt.Errorf("%w: path %q: %v", ErrInvalidParameter, in.Path, err)
	}
	id := filepath.Base(path)
	inPlace, err := s.checkAttachable(ctx, path, id)
	if err != nil {
		return AttachedVault{}, err
	}
	if err := s.checkForeignVault(ctx, path, id, in.Name); err != nil {
		return AttachedVault{}, err
	}
	imp := vaultstore.Imported{Undo: func() error { return nil }}
	if !inPlace {
		if imp, err = importer.Import(ctx, path, id); err != nil {
			return AttachedVault{}, fmt.Errorf("attach vault %q: %w", path, err)
		}
	}
	v, n, err := s.registerAttached(ctx, id, in.Name)
	if err != nil {
		if uerr := imp.Undo(); uerr != nil {
			s.log.Error("attach failed and the vault could not be put back", "path", path, "id", id, "err", uerr)
		}
		return AttachedVault{}, fmt.Errorf("attach vault %q: %w", path, err)
	}
	s.log.Info("vault attached", "vault", v.Name, "id", id, "from", path, "moved", imp.Moved, "recovery_points", n)
	return AttachedVault{Vault: v, RecoveryPoints: n, Moved: imp.Moved}, nil
}

// checkAttachable refuses a vault id that the catalog or the store
// already has, except the store's own directory of an uncatalogued vault
// (inPlace).
func (s *Service) checkAttachable(ctx context.Context, path, id string) (inPlace bool, err error) {
	if err := vaultstore.ValidID(id); err != nil {
		return false, fmt.Errorf("%w: %q is not a vault directory: its name must be the vault id (v-...)", ErrInvalidParameter, path)
	}
	known, err := s.db.AllVaults(ctx)
	if err != nil {
		return false, err
	}
	for _, v := range known {
		if v.ID == id {
			return false, fmt.Errorf("%w: vault id %s is already attached, as backup vault %q", ErrAlreadyExists, id, v.Name)
		}
	}
	ids, err := s.store.List(ctx)
	if err != nil {
		return false, err
	}
	if !slices.Contains(ids, id) {
		return false, nil
	}
	if filepath.Clean(s.store.Location(id)) == path {
		return true, nil
	}
	return false, fmt.Errorf("%w: vault id %s is already in this server's vault store (%s)", ErrAlreadyExists, id, s.store.Location(id))
}

// checkForeignVault opens the directory in place (its cache in a
// temporary directory) to check that it is a vault this master key opens
// and that its name, or newName, is free.
func (s *Service) checkForeignVault(ctx context.Context, path, id, newName string) error {
	cache, err := os.MkdirTemp("", "coffer-attach-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(cache)
	vv, err := vault.Open(ctx, path, vaultSecret(s.cfg.MasterKey, id), vault.Options{CacheDir: cache})
	switch {
	case errors.Is(err, vault.ErrNotFound):
		return fmt.Errorf("%w: %q is not a coffer vault (no repository in it)", ErrInvalidParameter, path)
	case errors.Is(err, vault.ErrWrongPassword):
		return fmt.Errorf("%w: vault %q does not open with this server's master key: it was made by a server with another key, or its directory was renamed (the name must stay the vault id)", ErrInvalidParameter, path)
	case err != nil:
		return fmt.Errorf("%w: %q is not a vault coffer can open: %v", ErrInvalidParameter, path, err)
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
			d, err = s.guessDescriptor(id, ms)
		}
		if err != nil {
			return err
		}
		name = d.Name
	}
	if _, err := s.db.Vault(ctx, name); err == nil {
		return fmt.Errorf("backup vault %q: %w: attach this vault under another name (--name NEW)", name, ErrAlreadyExists)
	}
	return nil
}

// registerAttached opens vault id from the store and registers it; on
// failure whatever it registered is removed again.
func (s *Service) registerAttached(ctx context.Context, id, newName string) (catalog.Vault, int, error) {
	vv, err := s.store.Open(ctx, id, vaultSecret(s.cfg.MasterKey, id))
	if err != nil {
		return catalog.Vault{}, 0, err
	}
	v, n, err := s.registerVault(ctx, id, vv, newName)
	if err != nil {
		_ = vv.Close(ctx)
		if v.Name != "" {
			s.unregisterVault(context.WithoutCancel(ctx), v.Name)
		}
		return catalog.Vault{}, 0, err
	}
	if err := s.registry.Add(ctx, id, vv); err != nil {
		s.log.Warn("register vault", "vault", v.Name, "err", err)
	}
	if v, err = s.db.Vault(ctx, v.Name); err != nil { // with its counts
		return catalog.Vault{}, 0, err
	}
	return v, n, nil
}

// unregisterVault removes a half-registered vault and its recovery
// points from the catalog (its files stay).
func (s *Service) unregisterVault(ctx context.Context, name string) {
	rps, err := allPages(func(p catalog.Page) ([]catalog.RecoveryPoint, string, error) {
		return s.db.ListRecoveryPoints(ctx, catalog.RecoveryPointFilter{VaultName: name}, p)
	})
	for _, rp := range rps {
		err = errors.Join(err, s.db.DeleteRecoveryPoint(ctx, rp.ARN), s.db.DeleteAllTags(ctx, rp.ARN))
	}
	if err = errors.Join(err, s.db.DeleteVault(ctx, name)); err != nil {
		s.log.Error("remove half-attached vault from the catalog", "vault", name, "err", err)
	}
}
