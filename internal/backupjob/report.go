package backupjob

import (
	"context"
	"errors"

	"github.com/cofferbackup/coffer/internal/jobreport"
	"github.com/cofferbackup/coffer/internal/vault"
)

// Report returns backup job id's report from its vault (the API's report
// extension). A job that has not ended yet, or ended without running
// (stopped or expired in the queue), has none: then the report says its
// state only.
func (b *Backups) Report(ctx context.Context, id string) (jobreport.Report, error) {
	j, err := b.Job(ctx, id)
	if err != nil {
		return jobreport.Report{}, err
	}
	rep := jobreport.Report{Version: jobreport.Version, JobID: j.ID, Kind: jobreport.KindBackup, State: j.State}
	err = b.cfg.Vaults.WithVault(ctx, j.VaultName, func(vv *vault.Vault) error {
		got, err := vv.JobReport(ctx, j.ID)
		switch {
		case err == nil && got.State == j.State:
			rep = got
		case err != nil && !errors.Is(err, vault.ErrNotFound):
			return err
		}
		return nil
	})
	return rep, err
}
