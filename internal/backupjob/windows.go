package backupjob

import (
	"context"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/jobs"
)

// EnforceWindows ends jobs whose windows have passed: running backups past
// their completion window are stopped (they end EXPIRED, with no recovery
// point), and queued ones past their start window end EXPIRED without
// waiting for a worker. The janitor calls it every tick; it uses the
// injectable clock. It returns how many jobs it stopped or expired.
func (b *Backups) EnforceWindows(ctx context.Context) (int, error) {
	now := b.cfg.Clock.Now()
	n := 0
	running, err := catalog.AllPages(func(p catalog.Page) ([]jobstore.BackupJob, string, error) {
		return b.cfg.Jobs.ListBackupJobs(ctx, jobstore.BackupJobFilter{States: []string{jobs.StateRunning}}, p)
	})
	if err != nil {
		return 0, err
	}
	for _, j := range running {
		if j.CompleteBy.IsZero() || now.Before(j.CompleteBy) {
			continue
		}
		// The job may run in another process: River's cancel reaches it,
		// and its handler sees the window passed (run).
		b.cfg.Core.Stop(ctx, kind, j.ID, jobs.ErrCompletionWindow)
		n++
	}
	queued, err := catalog.AllPages(func(p catalog.Page) ([]jobstore.BackupJob, string, error) {
		return b.cfg.Jobs.ListBackupJobs(ctx, jobstore.BackupJobFilter{States: []string{jobs.StateCreated, jobs.StatePending}}, p)
	})
	if err != nil {
		return n, err
	}
	for _, j := range queued {
		if j.StartBy.IsZero() || !now.After(j.StartBy) {
			continue
		}
		if b.endQueued(ctx, j, jobs.StateExpired, "the job did not start within its start window") {
			b.cfg.Core.CancelQueued(ctx, kind, j.ID)
			n++
		}
	}
	return n, nil
}
