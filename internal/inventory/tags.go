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

// ChangeRecoveryPointTags records in the vault of recovery point arn its
// tags as edit leaves them, then runs the catalog update; an error of
// edit (a limit) changes nothing. The vault goes
// first: it is what a rebuilt catalog reads, so it must not lag behind
// the catalog (a failed catalog update is repaired by the caller's
// retry). One change at a time, so that two concurrent ones cannot leave
// vault and catalog with different sets.
func (inv *Inventory) ChangeRecoveryPointTags(ctx context.Context, arn string, edit func(map[string]string) error, catalogUpdate func() error) error {
	inv.tagMu.Lock()
	defer inv.tagMu.Unlock()
	rp, err := inv.cfg.DB.RecoveryPointByARN(ctx, arn)
	if errors.Is(err, catalog.ErrNotFound) {
		return fmt.Errorf("recovery point %q: %w", arn, vocab.ErrNotFound)
	}
	if err != nil {
		return err
	}
	v, err := inv.Vault(ctx, rp.VaultName)
	if err != nil {
		return err
	}
	l, err := inv.Lease(ctx, v, vaults.Shared, "", true)
	if err != nil {
		return err
	}
	defer l.Release()
	tags, err := inv.cfg.DB.Tags(ctx, arn)
	if err != nil {
		return err
	}
	if err := edit(tags); err != nil {
		return err
	}
	if err := l.Vault().PutRecoveryPointTags(ctx, vault.RecoveryPointTags{ID: rp.ID, Tags: tags, UpdatedAt: inv.cfg.Clock.Now()}); err != nil {
		return fmt.Errorf("record tags of recovery point %q in its vault: %w", arn, err)
	}
	return catalogUpdate()
}
