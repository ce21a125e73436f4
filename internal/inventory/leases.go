package inventory

import (
	"context"
	"errors"
	"fmt"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vaults"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// PurposeDeletion names DeleteBackupVault's exclusive lease: a job that
// finds its vault held says what holds it.
const PurposeDeletion = "deletion"

// openVaultFiles opens vault id from the data directory; the registry
// calls it on the vault's first lease.
func (inv *Inventory) openVaultFiles(ctx context.Context, id string) (*vault.Vault, error) {
	return inv.cfg.Store.Open(ctx, id, inv.cfg.Secret(id))
}

// Lease takes catalogued vault v's lease in mode, waiting (bounded by
// ctx) unless !wait. A vault deleted meanwhile is vocab.ErrNotFound, as if the
// job had been created after the deletion. Release the lease when done.
func (inv *Inventory) Lease(ctx context.Context, v catalog.Vault, mode vaults.Mode, purpose string, wait bool) (*vaults.Lease, error) {
	acquire := inv.registry.Acquire
	if !wait {
		acquire = inv.registry.TryAcquire
	}
	l, err := acquire(ctx, v.ID, mode, purpose)
	switch {
	case err == nil:
		return l, nil
	case errors.Is(err, vaults.ErrDeleted):
		return nil, fmt.Errorf("backup vault %q was deleted: %w", v.Name, vocab.ErrNotFound)
	}
	return nil, fmt.Errorf("backup vault %q: %w", v.Name, err)
}

// JobLease takes vault name's lease shared for a job, without waiting: a
// job must not sit on a worker while maintenance or deletion holds its
// vault. If one does, waitFor says so (the job's StatusMessage while it
// waits in the queue) and l and err are nil.
func (inv *Inventory) JobLease(ctx context.Context, name string) (l *vaults.Lease, waitFor string, err error) {
	v, err := inv.Vault(ctx, name)
	if err != nil {
		return nil, "", err
	}
	l, err = inv.Lease(ctx, v, vaults.Shared, "", false)
	if busy := (*vaults.BusyError)(nil); errors.As(err, &busy) {
		return nil, fmt.Sprintf("waiting for %s of backup vault %q to finish", busy.Holder, name), nil
	}
	return l, "", err
}
