package inventory

import (
	"context"

	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vaults"
)

// WithVault runs f on catalogued vault name under a shared lease, waiting
// (bounded by ctx) while maintenance or deletion holds it: how the jobs
// reach the records they keep in their vault outside a run (a restore's
// items at its start, the reports the API fetches).
func (inv *Inventory) WithVault(ctx context.Context, name string, f func(*vault.Vault) error) error {
	v, err := inv.Vault(ctx, name)
	if err != nil {
		return err
	}
	l, err := inv.Lease(ctx, v, vaults.Shared, "", true)
	if err != nil {
		return err
	}
	defer l.Release()
	return f(l.Vault())
}
