package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vaults"
)

// What an exclusive lease is for; a job that finds its vault held says so.
const (
	purposeMaintenance = "maintenance"
	purposeDeletion    = "deletion"
)

// TestHooks hold jobs at known points so that tests can make "long"
// deterministic. For tests only: production leaves Config.TestHooks nil.
type TestHooks struct {
	// RestoreRunning is called by a restore job that is RUNNING and holds
	// its vault's lease, before it reads anything; the restore goes on
	// when it returns (it should return when ctx ends).
	RestoreRunning func(ctx context.Context, jobID string)
	// MaintenanceHeld is called by maintenance (a maintenance job or
	// MaintainVault) once it holds the vault's exclusive lease, before it
	// maintains; likewise.
	MaintenanceHeld func(ctx context.Context, vaultName string)
}

// openVaultFiles opens vault id from the data directory; the registry
// calls it on the vault's first lease.
func (s *Service) openVaultFiles(ctx context.Context, id string) (*vault.Vault, error) {
	return s.store.Open(ctx, id, vaultSecret(s.cfg.MasterKey, id))
}

// leaseVault takes catalogued vault v's lease in mode, waiting (bounded by
// ctx) unless !wait. A vault deleted meanwhile is ErrNotFound, as if the
// job had been created after the deletion. Release the lease when done.
func (s *Service) leaseVault(ctx context.Context, v catalog.Vault, mode vaults.Mode, purpose string, wait bool) (*vaults.Lease, error) {
	acquire := s.registry.Acquire
	if !wait {
		acquire = s.registry.TryAcquire
	}
	l, err := acquire(ctx, v.ID, mode, purpose)
	switch {
	case err == nil:
		return l, nil
	case errors.Is(err, vaults.ErrDeleted):
		return nil, fmt.Errorf("backup vault %q was deleted: %w", v.Name, ErrNotFound)
	}
	return nil, fmt.Errorf("backup vault %q: %w", v.Name, err)
}

// jobLease takes vault name's lease shared for a job, without waiting: a
// job must not sit on a worker while maintenance or deletion holds its
// vault. If one does, waitFor says so (the job's StatusMessage while it
// waits in the queue) and l and err are nil.
func (s *Service) jobLease(ctx context.Context, name string) (l *vaults.Lease, waitFor string, err error) {
	v, err := s.Vault(ctx, name)
	if err != nil {
		return nil, "", err
	}
	l, err = s.leaseVault(ctx, v, vaults.Shared, "", false)
	if busy := (*vaults.BusyError)(nil); errors.As(err, &busy) {
		return nil, fmt.Sprintf("waiting for %s of backup vault %q to finish", busy.Holder, name), nil
	}
	return l, "", err
}
