package restorejob

import (
	"context"
	"fmt"
	"strings"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/restore"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// MaxPreviewKeys bounds the keys a preview lists per class.
const MaxPreviewKeys = 1000

// Preview tells what StartRestoreJob with in would do now (coffer's
// extension, POST /restore-previews): the same validation, then the
// recovery point's state compared with the destination, writing nothing
// and recording nothing. It lists up to maxKeys keys of each class
// (restore.DefaultPreviewKeys if 0): they go to the caller only, never
// to the catalog or the log.
func (r *Restores) Preview(ctx context.Context, in StartRestoreInput, maxKeys int) (restore.Preview, error) {
	if in.RecoveryPointARN == "" {
		return restore.Preview{}, fmt.Errorf("%w: RecoveryPointArn is required", vocab.ErrMissingParameter)
	}
	if maxKeys < 0 || maxKeys > MaxPreviewKeys {
		return restore.Preview{}, fmt.Errorf("%w: MaxKeys must be from 0 to %d, not %d", vocab.ErrInvalidParameter, MaxPreviewKeys, maxKeys)
	}
	rp, opts, conn, err := r.validate(ctx, in)
	if err != nil {
		return restore.Preview{}, err
	}
	dst, err := r.cfg.Source(ctx, conn)
	if err != nil {
		return restore.Preview{}, err
	}
	opts.Parallelism = r.cfg.Parallelism
	var p restore.Preview
	err = r.cfg.Vaults.WithVault(ctx, rp.VaultName, func(vv *vault.Vault) error {
		s, err := r.stateStream(ctx, vv, rp, in.Metadata)
		if err != nil {
			return err
		}
		p, err = restore.PreviewStream(ctx, dst, vv, s, opts, maxKeys)
		return err
	})
	return p, err
}

// stateStream is the record stream of rp's state that a restore of it
// (or its preview) reads, given the request's metadata: for a periodic
// recovery point, its manifest's Records object; for a continuous one,
// its state at the RestoreTime.
func (r *Restores) stateStream(ctx context.Context, vv *vault.Vault, rp catalog.RecoveryPoint, md map[string]string) (restore.Stream, error) {
	if rp.Kind == catalog.KindContinuous {
		return continuousStream(ctx, vv, rp, md)
	}
	m, err := vv.RecoveryPoint(ctx, rp.ID)
	if err != nil {
		return restore.Stream{}, fmt.Errorf("read recovery point %s: %w", rp.ARN, err)
	}
	return restore.ManifestStream(vv, m), nil
}

// parseMode reads Metadata RestoreMode into o. A rollback's destination
// is the recovery point's own bucket (the default when
// DestinationBucketName is not given), never a new one.
func parseMode(md map[string]string, sourceBucket string, o *restore.Options) error {
	switch mode := strings.ToLower(strings.TrimSpace(md[MetaRestoreMode])); mode {
	case "", ModeRestore:
		return nil
	case ModeRollback:
	default:
		return fmt.Errorf("%w: Metadata RestoreMode must be %q or %q, not %q", vocab.ErrInvalidParameter, ModeRestore, ModeRollback, md[MetaRestoreMode])
	}
	if o.DestBucket == "" {
		o.DestBucket = sourceBucket
	}
	if o.DestBucket != sourceBucket {
		return fmt.Errorf("%w: a rollback restores the recovery point's own bucket %q in place, not %q (restore into another bucket without RestoreMode rollback)",
			vocab.ErrInvalidParameter, sourceBucket, o.DestBucket)
	}
	if strings.EqualFold(strings.TrimSpace(md[MetaNewBucket]), "true") {
		return fmt.Errorf("%w: a rollback restores the recovery point's own bucket in place: NewBucket must not be true", vocab.ErrInvalidParameter)
	}
	o.Rollback = true
	return nil
}

// endMessage is the status message of a restore or rollback that ran.
func endMessage(j *jobstore.RestoreJob, res restore.Result) string {
	if !strings.EqualFold(strings.TrimSpace(j.Metadata[MetaRestoreMode]), ModeRollback) {
		return restoreMessage(res)
	}
	st := res.Stats
	msg := fmt.Sprintf("rolled back: wrote %d objects as new current versions (%d bytes), put %d delete markers; %d objects were already as in the recovery point",
		st.ObjectsRestored, st.BytesRestored, st.DeleteMarkersRestored, st.ObjectsUnchanged)
	if st.ObjectsFailed > 0 {
		msg += fmt.Sprintf("; %d objects failed; the job report lists them", st.ObjectsFailed)
	}
	if res.Note != "" {
		msg += "; " + res.Note
	}
	return msg
}
