package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/jobqueue"
)

// Why a running job's context was cancelled.
var (
	errStopped          = errors.New("stopped by StopBackupJob")
	errCompletionWindow = errors.New("not completed within its completion window")
	errShutdown         = errors.New("coffer is stopping")
)

// How long a job waits before it looks again at what kept it from running.
const (
	busyRetry     = time.Second     // another backup of its bucket runs, or its vault is held
	shutdownRetry = 2 * time.Second // coffer is stopping: the job runs after restart
	catalogRetry  = 5 * time.Second // the catalog could not be read
)

// openQueue opens River on the catalog's database (on PostgreSQL its pool
// and schema). Workers bound the jobs (backups and restores) this process
// runs at once.
func (s *Service) openQueue(ctx context.Context) error {
	kinds, err := s.jobKinds()
	if err != nil {
		return fmt.Errorf("open job queue: %w", err)
	}
	cfg := jobqueue.Config{
		Kinds:        kinds,
		Periodic:     s.periodic(),
		ClientID:     s.procID,
		Workers:      s.cfg.MaxConcurrentJobs,
		Logger:       s.log.With("component", "jobqueue"),
		MaxAttempts:  1, // an interrupted job fails with a message; recover() settles it
		PollInterval: 200 * time.Millisecond,
		StopTimeout:  10 * time.Second,
	}
	var q *jobqueue.Queue
	if pool := s.db.Pool(); pool != nil {
		cfg.Schema = s.db.Schema()
		q, err = jobqueue.OpenPostgres(ctx, pool, cfg)
	} else {
		q, err = jobqueue.OpenSQLite(ctx, s.db.SQL(), cfg)
	}
	if err != nil {
		return fmt.Errorf("open job queue: %w", err)
	}
	s.queue = q
	return nil
}

// enqueue returns the TxFunc that queues job id of kind in the transaction
// that records it: River's driver for the engine gets the same transaction
// (see catalog.Tx).
func (s *Service) enqueue(ctx context.Context, kind, id string) catalog.TxFunc {
	return s.enqueueArgs(ctx, argsFor(kind, id, 0))
}

// enqueueArgs returns the TxFunc that queues River args a in the
// transaction of a job's change: River's driver for the engine gets the
// same transaction (see catalog.Tx).
func (s *Service) enqueueArgs(ctx context.Context, a jobqueue.Args) catalog.TxFunc {
	return func(tx *catalog.Tx) error {
		if s.db.Engine() == catalog.Postgres {
			return tx.Pgx(func(ptx pgx.Tx) error { return s.queue.EnqueuePgxTx(ctx, ptx, a) })
		}
		return s.queue.EnqueueTx(ctx, tx.SQL(), a)
	}
}

// jobContext derives the context a job runs in: cancelled by River
// (StopBackupJob from any process), by coffer stopping, and through the
// set of running jobs (StopBackupJob and completion windows in this
// process, a fence). done must be called when the job ends.
func (s *Service) jobContext(ctx context.Context, id string) (jctx context.Context, done func()) {
	jctx, end := s.running.Start(ctx, id)
	stop := context.AfterFunc(s.ctx, func() { s.running.Cancel(id, errShutdown) })
	return jctx, func() {
		stop()
		end()
	}
}

// cancelLocal cancels job id if it runs in this process.
func (s *Service) cancelLocal(id string, cause error) bool { return s.running.Cancel(id, cause) }

// cancelQueued tells River that job id must not run, or must stop.
func (s *Service) cancelQueued(ctx context.Context, kind, id string) {
	if err := s.queue.Cancel(ctx, kind, id); err != nil && !errors.Is(err, jobqueue.ErrNotFound) {
		s.log.Warn("cancel queued job", "kind", kind, "job", id, "err", err)
	}
}

// handleBackup is River's handler for backup jobs. It is idempotent: a job
// no longer CREATED or PENDING (finished, stopped, expired, settled by
// recovery) is left alone. It returns nil once the job's end is recorded,
// and a snooze while the job must wait: for its bucket (another backup of
// it runs) or its vault (maintenance or deletion holds it). A waiting job
// holds no worker, so a stop, its start window or a shutdown reaches it.
func (s *Service) handleBackup(ctx context.Context, id string, run int) error {
	if s.ctx.Err() != nil {
		return jobqueue.Snooze(shutdownRetry)
	}
	j, err := s.db.BackupJob(ctx, id)
	if errors.Is(err, catalog.ErrNotFound) {
		s.log.Error("queued backup job is not in the catalog", "job", id)
		return nil
	}
	if err != nil {
		s.log.Error("read backup job", "job", id, "err", err)
		return jobqueue.Snooze(catalogRetry)
	}
	if j.State != StateCreated && j.State != StatePending || j.Run != run {
		return nil // settled, or taken over: a newer River job runs it
	}
	jctx, done := s.jobContext(ctx, id)
	defer done()
	bg := context.WithoutCancel(ctx) // records the end of a cancelled job
	if !j.StartBy.IsZero() && s.clock.Now().After(j.StartBy) {
		s.endQueuedBackup(bg, j, StateExpired, "the job did not start within its start window")
		return nil
	}
	// The vault's lease first: a job can go back to PENDING until it is
	// claimed, not after.
	lease, waitFor, err := s.jobLease(jctx, j.VaultName)
	switch {
	case waitFor != "":
		return s.waitForResource(bg, j, waitFor)
	case err != nil && jctx.Err() != nil:
		return s.queuedInterrupted(jctx)
	case err != nil:
		s.endQueuedBackup(bg, j, StateFailed, err.Error())
		return nil
	}
	defer lease.Release()
	claimed, err := s.claimBackup(bg, &j)
	if err != nil {
		s.log.Error("start backup job", "job", id, "err", err)
		return jobqueue.Snooze(catalogRetry)
	}
	if !claimed {
		why := "waiting for another backup of this bucket to finish"
		if busy, err := s.db.MaintenanceRunning(bg, j.VaultName); err == nil && busy {
			why = maintenanceWaitNote(j.VaultName) // in another process
		}
		return s.waitForResource(bg, j, why)
	}
	return s.runBackup(jctx, &j, lease.Vault())
}

// queuedInterrupted is the handler's answer when the context of a job that
// has not started ended: coffer is stopping (the job stays queued), or a
// stop request ended it (already recorded).
func (s *Service) queuedInterrupted(jctx context.Context) error {
	if errors.Is(context.Cause(jctx), errShutdown) {
		return jobqueue.Snooze(shutdownRetry)
	}
	return nil
}

// claimBackup moves the job to RUNNING unless another backup of its bucket
// is running (anywhere: the check is in the catalog).
func (s *Service) claimBackup(ctx context.Context, j *catalog.BackupJob) (bool, error) {
	run := *j
	run.State, run.StartedAt, run.StatusMessage, run.Owner = StateRunning, s.clock.Now(), "", s.procID
	ok, err := s.db.ClaimBackupJob(ctx, run, []string{StateCreated, StatePending}, []string{StateRunning, StateAborting})
	if ok {
		*j = run
	}
	return ok, err
}

// waitForResource handles a job that could not start: it marks it PENDING
// with waitFor as its message and snoozes it, unless its state changed
// meanwhile.
func (s *Service) waitForResource(ctx context.Context, j catalog.BackupJob, waitFor string) error {
	cur, err := s.db.BackupJob(ctx, j.ID)
	if err != nil {
		return jobqueue.Snooze(catalogRetry)
	}
	if cur.State != StateCreated && cur.State != StatePending {
		return nil // stopped or expired meanwhile
	}
	if cur.State != StatePending || cur.StatusMessage != waitFor {
		from := cur.State
		cur.State, cur.StatusMessage = StatePending, waitFor
		if _, err := s.db.TransitionBackupJob(ctx, cur, from); err != nil {
			s.log.Warn("mark job pending", "job", j.ID, "err", err)
		}
	}
	return jobqueue.Snooze(busyRetry)
}

// endQueuedBackup ends a job that never ran, unless its state changed.
func (s *Service) endQueuedBackup(ctx context.Context, j catalog.BackupJob, state, msg string) bool {
	j.State, j.StatusMessage, j.CompletedAt = state, msg, s.clock.Now()
	ok, err := s.db.TransitionBackupJob(ctx, j, StateCreated, StatePending)
	if err != nil {
		s.log.Error("record job end", "job", j.ID, "err", err)
	}
	if ok {
		s.log.Info("backup job ended", "job", j.ID, "state", state, "message", msg)
	}
	return ok
}

// handleRestore is River's handler for restore jobs; idempotent like
// handleBackup. A restore whose vault maintenance or deletion holds stays
// PENDING, saying so, and is snoozed.
func (s *Service) handleRestore(ctx context.Context, id string, run int) error {
	if s.ctx.Err() != nil {
		return jobqueue.Snooze(shutdownRetry)
	}
	j, err := s.db.RestoreJob(ctx, id)
	if errors.Is(err, catalog.ErrNotFound) {
		s.log.Error("queued restore job is not in the catalog", "job", id)
		return nil
	}
	if err != nil {
		s.log.Error("read restore job", "job", id, "err", err)
		return jobqueue.Snooze(catalogRetry)
	}
	if j.Status != StatePending || j.Run != run {
		return nil
	}
	jctx, done := s.jobContext(ctx, id)
	defer done()
	bg := context.WithoutCancel(ctx)
	lease, waitFor, err := s.jobLease(jctx, j.VaultName)
	switch {
	case waitFor != "":
		if j.StatusMessage != waitFor {
			j.StatusMessage = waitFor
			if _, err := s.db.TransitionRestoreJob(bg, j, StatePending); err != nil {
				s.log.Warn("record restore waiting", "job", id, "err", err)
			}
		}
		return jobqueue.Snooze(busyRetry)
	case err != nil && jctx.Err() != nil:
		return s.queuedInterrupted(jctx)
	case err != nil:
		j.Status, j.StatusMessage, j.CompletedAt = StateFailed, err.Error(), s.clock.Now()
		if _, err := s.db.TransitionRestoreJob(bg, j, StatePending); err != nil {
			s.log.Error("record restore end", "job", id, "err", err)
		}
		return nil
	}
	defer lease.Release()
	queued := j
	j.Status, j.StatusMessage, j.Owner = StateRunning, "", s.procID
	ok, err := s.db.ClaimRestoreJob(bg, j)
	if err != nil {
		s.log.Error("start restore job", "job", id, "err", err)
		return jobqueue.Snooze(catalogRetry)
	}
	if !ok {
		// Stopped meanwhile, or maintenance of the vault runs in another
		// process: then wait in the queue, saying so.
		if cur, err := s.db.RestoreJob(bg, id); err == nil && cur.Status == StatePending && cur.Run == run {
			if why := maintenanceWaitNote(j.VaultName); cur.StatusMessage != why {
				queued.StatusMessage = why
				_, _ = s.db.TransitionRestoreJob(bg, queued, StatePending)
			}
			return jobqueue.Snooze(busyRetry)
		}
		return nil
	}
	s.runRestore(jctx, &j, lease.Vault())
	return nil
}

// maintenanceWaitNote is the StatusMessage of a job waiting for the
// maintenance of its vault.
func maintenanceWaitNote(vault string) string {
	return fmt.Sprintf("waiting for maintenance of backup vault %q to finish", vault)
}

// EnforceWindows ends jobs whose windows have passed: running backups past
// their completion window are stopped (they end EXPIRED, with no recovery
// point), and queued ones past their start window end EXPIRED without
// waiting for a worker. The janitor calls it every tick; it uses the
// injectable clock. It returns how many jobs it stopped or expired.
func (s *Service) EnforceWindows(ctx context.Context) (int, error) {
	now := s.clock.Now()
	n := 0
	running, err := allPages(func(p catalog.Page) ([]catalog.BackupJob, string, error) {
		return s.db.ListBackupJobs(ctx, catalog.BackupJobFilter{States: []string{StateRunning}}, p)
	})
	if err != nil {
		return 0, err
	}
	for _, j := range running {
		if j.CompleteBy.IsZero() || now.Before(j.CompleteBy) {
			continue
		}
		// The job may run in another process: River's cancel reaches it,
		// and its handler sees the window passed (runBackup).
		if !s.cancelLocal(j.ID, errCompletionWindow) {
			s.cancelQueued(ctx, kindBackup, j.ID)
		}
		n++
	}
	queued, err := allPages(func(p catalog.Page) ([]catalog.BackupJob, string, error) {
		return s.db.ListBackupJobs(ctx, catalog.BackupJobFilter{States: []string{StateCreated, StatePending}}, p)
	})
	if err != nil {
		return n, err
	}
	for _, j := range queued {
		if j.StartBy.IsZero() || !now.After(j.StartBy) {
			continue
		}
		if s.endQueuedBackup(ctx, j, StateExpired, "the job did not start within its start window") {
			s.cancelQueued(ctx, kindBackup, j.ID)
			n++
		}
	}
	return n, nil
}
