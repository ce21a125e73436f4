package restorejob

import (
	"context"
	"errors"

	"github.com/cofferbackup/coffer/internal/jobreport"
	"github.com/cofferbackup/coffer/internal/vault"
)

// Report returns restore job id's report from its vault (the API's
// report extension). A job that has not ended yet, or ended before it
// reached its vault, has none: then the report says its state and the
// items it was asked for.
func (r *Restores) Report(ctx context.Context, id string) (jobreport.Report, error) {
	j, err := r.Job(ctx, id)
	if err != nil {
		return jobreport.Report{}, err
	}
	rep := jobreport.Report{Version: jobreport.Version, JobID: j.ID, Kind: jobreport.KindRestore, State: j.Status}
	err = r.cfg.Vaults.WithVault(ctx, j.VaultName, func(vv *vault.Vault) error {
		got, err := vv.JobReport(ctx, j.ID)
		if err == nil && got.State == j.Status {
			rep = got
			return nil
		}
		if err != nil && !errors.Is(err, vault.ErrNotFound) {
			return err
		}
		// No report, or the one of an earlier run of a job taken over.
		if j.Metadata[MetaItemsCount] == "" {
			return nil
		}
		items, err := vv.RestoreItems(ctx, j.ID)
		rep.Items = items.Items
		return err
	})
	return rep, err
}
