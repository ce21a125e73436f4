package backupjob

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/jobs"
	"github.com/cofferbackup/coffer/internal/vaults"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// TakeOver takes over the backup jobs of dead processes (a jobs.Taker):
// a running job is queued again with its run raised (it runs from the
// start), unless its recovery point made it into the vault (then it
// completed) or it was being stopped (then it is aborted).
func (b *Backups) TakeOver(ctx context.Context, dead jobs.DeadFunc) (int, error) {
	return jobs.EachOldest(ctx, "backup", func(p catalog.Page) ([]jobstore.BackupJob, string, error) {
		return b.cfg.Jobs.ListBackupJobs(ctx, jobstore.BackupJobFilter{States: jobs.ActiveBackupStates}, p)
	}, func(j jobstore.BackupJob) string { return j.ID }, func(j jobstore.BackupJob) (bool, error) {
		return b.takeOverJob(ctx, j, dead)
	})
}

func (b *Backups) takeOverJob(ctx context.Context, j jobstore.BackupJob, dead jobs.DeadFunc) (bool, error) {
	if j.State == jobs.StateCreated || j.State == jobs.StatePending {
		return b.cfg.Core.RescueQueued(ctx, kind, j.ID, j.Run, dead, func(msg string, then catalog.TxFunc) (bool, error) {
			next := j
			next.Run++
			if then == nil {
				next.State, next.CompletedAt = jobs.StateFailed, b.cfg.Clock.Now()
			}
			next.StatusMessage = msg
			return b.cfg.Jobs.TransitionBackupJobTx(ctx, next, then, j.State)
		})
	}
	gone, err := dead(ctx, j.Owner, j.ID)
	if err != nil || !gone {
		return false, err
	}
	from := j.State
	note := b.cfg.Core.OwnerNote(j.Owner)
	status, err := b.committed(ctx, j)
	if busy := (*vaults.BusyError)(nil); errors.As(err, &busy) {
		return false, nil // maintenance holds the vault: the next pass looks again
	}
	if err != nil {
		return false, err
	}
	var then catalog.TxFunc
	switch {
	case status != "":
		j.State, j.StatusMessage, j.CompletedAt = status, "completed; "+note+" before the job was recorded as done", b.cfg.Clock.Now()
	case j.State == jobs.StateAborting:
		j.State, j.StatusMessage, j.CompletedAt = jobs.StateAborted, "stopped by StopBackupJob; "+note+" before the job ended; no recovery point was created", b.cfg.Clock.Now()
	case j.Run+1 >= jobs.MaxRuns:
		j.State, j.StatusMessage, j.CompletedAt = jobs.StateFailed, fmt.Sprintf("%s; the job was taken over %d times and is given up; start the backup again", note, j.Run), b.cfg.Clock.Now()
	default:
		j.Run++
		j.State, j.Owner, j.StartedAt, j.PercentDone, j.BytesTransferred, j.BackupSize, j.Stats = jobs.StateCreated, "", time.Time{}, "0.0", 0, 0, "{}"
		j.StatusMessage = fmt.Sprintf("taken over: %s; running again from the start (run %d)", note, j.Run+1)
		then = b.cfg.Core.Enqueue(ctx, kind, j.ID, j.Run)
	}
	ok, err := b.cfg.Jobs.TransitionBackupJobTx(ctx, j, then, from)
	if ok {
		b.cfg.Log.Warn("backup job of a dead process taken over", "job", j.ID, "owner", j.Owner, "state", j.State)
		b.ended(ctx, j)
	}
	return ok, err
}

// committed returns the status of job j's recovery point if it was
// committed: recorded in the catalog, or only in the vault (its process
// died in between: it is recorded now, so that the job is not run again
// into a second copy of the same recovery point). "" if it was not.
func (b *Backups) committed(ctx context.Context, j jobstore.BackupJob) (string, error) {
	rp, err := b.cfg.DB.RecoveryPointByARN(ctx, j.RecoveryPointARN)
	if err == nil {
		return rp.Status, nil
	}
	if !errors.Is(err, catalog.ErrNotFound) {
		return "", err
	}
	m, found, err := b.cfg.Vaults.Committed(ctx, j.VaultName, recoveryPointID(j))
	if errors.Is(err, vocab.ErrNotFound) {
		return "", nil // the vault is gone: nothing was kept
	}
	if err != nil || !found {
		return "", err
	}
	if err := b.cfg.Vaults.RegisterRecoveryPoint(ctx, m); err != nil {
		return "", err
	}
	b.cfg.Log.Warn("recovery point of a dead process's backup found in the vault; recorded", "job", j.ID, "rp", m.ARN)
	return m.Status, nil
}
