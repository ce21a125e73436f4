package vault

import (
	"context"
	"fmt"
	"time"

	"github.com/cofferbackup/coffer/internal/jobreport"
)

// Manifest types of the per-job records (docs/format.md, "Job reports").
// Like the descriptor they are plain manifests, which maintenance never
// deletes.
const (
	manifestTypeJobReport    = "coffer-job-report"
	manifestTypeRestoreItems = "coffer-restore-items"
)

// RestoreItems is what a restore job was asked to restore
// (StartRestoreJob's ItemsToRestore), kept here rather than in the
// catalog because the items name objects.
type RestoreItems struct {
	JobID     string    `json:"job_id"`
	Items     []string  `json:"items"`
	CreatedAt time.Time `json:"created_at"`
}

// PutRestoreItems records the items of restore job r.JobID and commits.
func (v *Vault) PutRestoreItems(ctx context.Context, r RestoreItems) error {
	if err := v.replaceManifest(ctx, jobLabels(manifestTypeRestoreItems, r.JobID), r); err != nil {
		return fmt.Errorf("vault %q: put items of restore job %q: %w", v.dir, r.JobID, err)
	}
	return nil
}

// RestoreItems returns the items of restore job jobID; ErrNotFound if none
// were recorded.
func (v *Vault) RestoreItems(ctx context.Context, jobID string) (RestoreItems, error) {
	var r RestoreItems
	found, err := v.newestManifest(ctx, jobLabels(manifestTypeRestoreItems, jobID), &r)
	if err == nil && !found {
		err = ErrNotFound
	}
	if err != nil {
		return RestoreItems{}, fmt.Errorf("vault %q: items of restore job %q: %w", v.dir, jobID, err)
	}
	return r, nil
}

// PutJobReport records the report of job r.JobID, replacing an earlier
// one (a job resumed after a takeover reports again), and commits.
func (v *Vault) PutJobReport(ctx context.Context, r jobreport.Report) error {
	if r.Version == 0 {
		r.Version = jobreport.Version
	}
	if err := v.replaceManifest(ctx, jobLabels(manifestTypeJobReport, r.JobID), r); err != nil {
		return fmt.Errorf("vault %q: put report of job %q: %w", v.dir, r.JobID, err)
	}
	return nil
}

// JobReport returns the report of job jobID; ErrNotFound if the job wrote
// none (yet).
func (v *Vault) JobReport(ctx context.Context, jobID string) (jobreport.Report, error) {
	var r jobreport.Report
	found, err := v.newestManifest(ctx, jobLabels(manifestTypeJobReport, jobID), &r)
	if err == nil && !found {
		err = ErrNotFound
	}
	if err != nil {
		return jobreport.Report{}, fmt.Errorf("vault %q: report of job %q: %w", v.dir, jobID, err)
	}
	return r, nil
}

func jobLabels(typ, jobID string) map[string]string {
	return map[string]string{labelType: typ, labelID: jobID}
}
