package copyjob

import (
	"context"
	"fmt"
	"io"

	"github.com/cofferbackup/coffer/internal/capturelog"
	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vaultcopy"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// snapshotSource sets opts to copy continuous recovery point rp of src as
// a snapshot: the bucket's state at rp's LatestRestorableTime when the
// copy runs, read by the capture log's state engine (the one restores at
// a RestoreTime use), as AWS copies continuous backups.
func snapshotSource(ctx context.Context, src *vault.Vault, rp catalog.RecoveryPoint, opts *vaultcopy.Options) error {
	st, found, err := capturelog.LoadState(ctx, src, rp.ID)
	if err != nil {
		return fmt.Errorf("read continuous recovery point %s: %w", rp.ARN, err)
	}
	at := rp.LatestRestorable
	if found && st.Covered.After(at) {
		at = st.Covered // the vault is ahead of the catalog
	}
	if at.IsZero() {
		return fmt.Errorf("continuous recovery point %s has no restorable time yet: nothing to copy", rp.ARN)
	}
	plan, err := capturelog.PlanAt(ctx, src, rp.ID, at)
	if err != nil {
		return fmt.Errorf("continuous recovery point %s at %s: %w", rp.ARN, at, err)
	}
	bucket, _ := vocab.ParseBucketARN(rp.ResourceARN)
	opts.Source = recpoint.Manifest{ID: rp.ID, ARN: rp.ARN, VaultName: rp.VaultName, ResourceARN: rp.ResourceARN,
		ResourceType: nonEmpty(rp.ResourceType, "S3"), Connection: st.Connection, Endpoint: st.Endpoint, Bucket: bucket,
		BackupJobID: rp.BackupJobID, Status: vocab.RecoveryPointCompleted, Tags: rp.Tags, Versioned: true,
		StatusMessage: "a snapshot of continuous recovery point " + rp.ARN + " at " + at.UTC().Format("2006-01-02T15:04:05.000Z07:00")}
	opts.Records = func(ctx context.Context) (io.ReadCloser, error) {
		pr, pw := io.Pipe()
		go func() {
			_, err := capturelog.WriteStateAt(ctx, src, plan, pw)
			pw.CloseWithError(err) //nolint:errcheck // always nil
		}()
		return pr, nil // closing it early unblocks the producer
	}
	return nil
}
