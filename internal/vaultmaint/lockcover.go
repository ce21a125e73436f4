package vaultmaint

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/kopia/kopia/repo"
	"github.com/kopia/kopia/repo/blob"

	"github.com/cofferbackup/coffer/internal/recpoint"
)

// lockCoverMargin is how far past the longest live DeleteAt a vault's
// blobs are kept locked: clock skew between coffer and the endpoint.
const lockCoverMargin = 24 * time.Hour

// noteDeleteAt remembers the latest DeleteAt among live recovery points
// (a retention changed after the backup wins over the manifest's).
func (r *maintenanceRun) noteDeleteAt(m recpoint.Manifest) {
	days := m.DeleteAfterDays
	if lc, ok := r.lifecycles[m.ID]; ok {
		days = lc.DeleteAfterDays
	}

	if days <= 0 {
		return // kept forever: the rolling retention covers it
	}

	const maxDays = 36500 // as far as any lock or retention goes
	if days > maxDays {
		days = maxDays
	}

	if at := m.CreatedAt.Add(time.Duration(days) * 24 * time.Hour); at.After(r.maxDeleteAt) {
		r.maxDeleteAt = at
	}
}

// coverDeleteAt extends, in a vault under S3 Object Lock, the retention
// of every blob to the latest DeleteAt of a live recovery point, when
// that is beyond what kopia's rolling extension gives (now plus the
// period): no version a live recovery point needs can then be removed
// through the S3 API before its DeleteAt, even if coffer never runs
// maintenance again. It extends every blob, not only those that
// recovery point needs: S3 retentions only grow, and kopia does not say
// which packs a recovery point's contents are in.
func (r *maintenanceRun) coverDeleteAt(ctx context.Context) error {
	if r.maxDeleteAt.IsZero() {
		return nil
	}

	cfg, err := r.w.FormatManager().BlobCfgBlob(ctx)
	if err != nil {
		return fmt.Errorf("blob configuration: %w", err)
	}

	if !cfg.IsRetentionEnabled() {
		return nil
	}

	now := r.w.Time()
	until := r.maxDeleteAt.Add(lockCoverMargin)

	if !until.After(now.Add(cfg.RetentionPeriod)) {
		return nil // the rolling retention reaches that far
	}

	opts := blob.ExtendOptions{RetentionMode: cfg.RetentionMode, RetentionPeriod: until.Sub(now)}

	var n atomic.Int64

	err = blob.IterateAllPrefixesInParallel(ctx, 8, r.w.BlobStorage(), repo.GetLockingStoragePrefixes(), func(bm blob.Metadata) error {
		if err := r.w.BlobStorage().ExtendBlobRetention(ctx, bm.BlobID, opts); err != nil {
			return fmt.Errorf("extend the retention of blob %s: %w", bm.BlobID, err)
		}

		n.Add(1)

		return nil
	})
	if err != nil {
		return err
	}

	r.st.LockedUntil, r.st.LockExtendedBlobs = until, n.Load()

	return nil
}
