package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/jobqueue"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vaults"
)

// What asked for a maintenance job (its Trigger).
const (
	TriggerRecoveryPointDeleted = "RECOVERY_POINT_DELETED"
	TriggerExpiry               = "EXPIRY"
	TriggerPeriodic             = "PERIODIC"
	TriggerOnDemand             = "ON_DEMAND"
)

// DefaultMaintenanceInterval is how often the leader queues maintenance of
// every vault (Config.MaintenanceInterval).
const DefaultMaintenanceInterval = 24 * time.Hour

// A maintenance job whose vault jobs hold tries for it maintenanceTries
// times, snoozed maintenanceRetry apart (holding no worker), and then
// waits for it on a worker for at most maintenanceWait: the registry's
// exclusive wait lets new jobs in meanwhile, so a busy vault is not
// starved of jobs, and a vault that never falls idle by itself is still
// maintained between two jobs.
const (
	maintenanceRetry = 2 * time.Second
	maintenanceTries = 15
	maintenanceWait  = 10 * time.Minute
)

// errVaultBusy: the maintenance job must wait for its vault in the queue.
var errVaultBusy = errors.New("vault busy")

// StartMaintenanceJob queues maintenance of a vault (the on-demand
// StartMaintenanceJob extension). A maintenance job of the vault already
// queued absorbs the request and is returned.
func (s *Service) StartMaintenanceJob(ctx context.Context, vaultName string) (catalog.MaintenanceJob, error) {
	if vaultName == "" {
		return catalog.MaintenanceJob{}, fmt.Errorf("%w: BackupVaultName is required", ErrMissingParameter)
	}
	return s.requestMaintenance(ctx, vaultName, TriggerOnDemand)
}

// requestMaintenance records a maintenance job of a vault and queues it in
// the same transaction, unless one is queued already: that one is
// returned (it has not started, so it reclaims what was deleted so far).
func (s *Service) requestMaintenance(ctx context.Context, vaultName, trigger string) (catalog.MaintenanceJob, error) {
	v, err := s.Vault(ctx, vaultName)
	if err != nil {
		return catalog.MaintenanceJob{}, err
	}
	for range 5 {
		j := catalog.MaintenanceJob{ID: newID(), VaultName: v.Name, VaultARN: v.ARN, State: StateCreated, Trigger: trigger, CreatedAt: s.clock.Now()}
		err := s.db.InsertMaintenanceJob(ctx, j, s.enqueue(ctx, kindMaintenance, j.ID))
		if err == nil {
			s.log.Info("maintenance job created", "job", j.ID, "vault", v.Name, "trigger", trigger)
			return j, nil
		}
		if !errors.Is(err, catalog.ErrExists) {
			return catalog.MaintenanceJob{}, err
		}
		queued, _, err := s.db.ListMaintenanceJobs(ctx, catalog.MaintenanceJobFilter{VaultName: v.Name, State: StateCreated}, catalog.Page{Max: 1})
		if err != nil {
			return catalog.MaintenanceJob{}, err
		}
		if len(queued) == 1 {
			return queued[0], nil
		}
		// The queued one was claimed between the insert and the read.
	}
	return catalog.MaintenanceJob{}, fmt.Errorf("queue maintenance of backup vault %q: its maintenance jobs kept changing; try again", vaultName)
}

// maintainLater queues maintenance of a vault after recovery points were
// deleted from it. The deletion stands whatever happens here: a failure is
// logged, and the next deletion, expiry or periodic pass queues it again.
func (s *Service) maintainLater(ctx context.Context, name, trigger string) {
	if _, err := s.requestMaintenance(context.WithoutCancel(ctx), name, trigger); err != nil {
		s.log.Error("queue vault maintenance", "vault", name, "trigger", trigger, "err", err)
	}
}

// MaintainAllVaults queues maintenance of every vault: the leader's
// periodic pass. It returns how many jobs it queued or found queued.
func (s *Service) MaintainAllVaults(ctx context.Context) (int, error) {
	all, err := s.db.AllVaults(ctx)
	if err != nil {
		return 0, err
	}
	var errs []error
	n := 0
	for _, v := range all {
		if _, err := s.requestMaintenance(ctx, v.Name, TriggerPeriodic); err != nil && !errors.Is(err, ErrNotFound) {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// MaintenanceJob describes one maintenance job.
func (s *Service) MaintenanceJob(ctx context.Context, id string) (catalog.MaintenanceJob, error) {
	j, err := s.db.MaintenanceJob(ctx, id)
	if errors.Is(err, catalog.ErrNotFound) {
		return j, fmt.Errorf("maintenance job %q: %w", id, ErrNotFound)
	}
	return j, err
}

// ListMaintenanceJobs lists maintenance jobs newest first.
func (s *Service) ListMaintenanceJobs(ctx context.Context, f catalog.MaintenanceJobFilter, p catalog.Page) ([]catalog.MaintenanceJob, string, error) {
	return wrapPage(s.db.ListMaintenanceJobs(ctx, f, p))
}

// StopMaintenanceJob stops a maintenance job that has not finished: a
// queued one ends ABORTED at once; a running one is cancelled wherever it
// runs and ends ABORTED (or COMPLETED if it was just done). What a stopped
// run did not reclaim, the next maintenance of the vault does.
func (s *Service) StopMaintenanceJob(ctx context.Context, id string) error {
	for range 5 {
		j, err := s.MaintenanceJob(ctx, id)
		if err != nil {
			return err
		}
		switch j.State {
		case StateCreated:
			if s.endMaintenance(ctx, j, StateAborted, "stopped by StopMaintenanceJob before it started") {
				// It may be waiting for its vault on a worker, here or
				// in another process.
				s.cancelLocal(id, errStopped)
				s.cancelQueued(ctx, kindMaintenance, id)
				s.forgetTries(id)
				return nil
			}
		case StateRunning:
			if !s.cancelLocal(id, errStopped) {
				s.cancelQueued(ctx, kindMaintenance, id)
			}
			return nil
		default:
			return fmt.Errorf("%w: maintenance job %s is %s and cannot be stopped", ErrInvalidRequest, id, j.State)
		}
	}
	return fmt.Errorf("%w: maintenance job %s kept changing state; try again", ErrInvalidRequest, id)
}

// endMaintenance ends a job that has not started, unless its state
// changed; it reports whether it did.
func (s *Service) endMaintenance(ctx context.Context, j catalog.MaintenanceJob, state, msg string) bool {
	j.State, j.StatusMessage, j.CompletedAt = state, msg, s.clock.Now()
	ok, err := s.db.TransitionMaintenanceJob(ctx, j, StateCreated)
	if err != nil {
		s.log.Error("record maintenance job end", "job", j.ID, "err", err)
	}
	if ok {
		s.log.Info("maintenance job ended", "job", j.ID, "vault", j.VaultName, "state", state, "message", msg)
	}
	return ok
}

// handleMaintenance is River's handler for maintenance jobs; idempotent
// like handleBackup. It takes the vault's exclusive lease without waiting
// while jobs hold the vault (the job stays CREATED, saying so, and is
// snoozed) until it has tried maintenanceTries times; then it waits for
// the lease for at most maintenanceWait.
func (s *Service) handleMaintenance(ctx context.Context, id string, run int) error {
	if s.ctx.Err() != nil {
		return jobqueue.Snooze(shutdownRetry)
	}
	j, err := s.db.MaintenanceJob(ctx, id)
	if errors.Is(err, catalog.ErrNotFound) {
		s.log.Error("queued maintenance job is not in the catalog", "job", id)
		return nil
	}
	if err != nil {
		s.log.Error("read maintenance job", "job", id, "err", err)
		return jobqueue.Snooze(catalogRetry)
	}
	if j.State != StateCreated || j.Run != run {
		s.forgetTries(id)
		return nil
	}
	jctx, done := s.jobContext(ctx, id)
	defer done()
	bg := context.WithoutCancel(ctx)
	lease, err := s.maintenanceLease(jctx, bg, j)
	switch {
	case errors.Is(err, errVaultBusy):
		return jobqueue.Snooze(maintenanceRetry)
	case err != nil && jctx.Err() != nil:
		return s.queuedInterrupted(jctx)
	case errors.Is(err, ErrNotFound):
		s.endMaintenance(bg, j, StateCompleted, "nothing to maintain: "+err.Error())
		return nil
	case err != nil:
		s.endMaintenance(bg, j, StateFailed, err.Error())
		return nil
	}
	defer lease.Release()
	claimed := j
	claimed.State, claimed.StatusMessage, claimed.StartedAt, claimed.Owner = StateRunning, "", s.clock.Now(), s.procID
	ok, err := s.db.ClaimMaintenanceJob(bg, claimed)
	switch {
	case errors.Is(err, catalog.ErrExists): // another process maintains the vault
		s.noteWaiting(bg, j, fmt.Sprintf("waiting for another maintenance job of backup vault %q to finish", j.VaultName))
		return jobqueue.Snooze(maintenanceRetry)
	case err != nil:
		s.log.Error("start maintenance job", "job", id, "err", err)
		return jobqueue.Snooze(catalogRetry)
	case !ok:
		// Stopped meanwhile, or jobs of the vault run in other processes
		// (this process's lease cannot see them): wait in the queue.
		if cur, err := s.db.MaintenanceJob(bg, id); err == nil && cur.State == StateCreated && cur.Run == run {
			s.noteWaiting(bg, j, fmt.Sprintf("waiting for running jobs of backup vault %q to finish", j.VaultName))
			return jobqueue.Snooze(maintenanceRetry)
		}
		return nil
	}
	return s.runMaintenance(jctx, claimed, lease)
}

// maintenanceLease takes job j's vault exclusively (see handleMaintenance):
// errVaultBusy when the job must wait in the queue. bg records the wait.
func (s *Service) maintenanceLease(ctx, bg context.Context, j catalog.MaintenanceJob) (*vaults.Lease, error) {
	v, err := s.Vault(ctx, j.VaultName)
	if err != nil {
		return nil, err
	}
	l, err := s.leaseVault(ctx, v, vaults.Exclusive, purposeMaintenance, false)
	busy := (*vaults.BusyError)(nil)
	if !errors.As(err, &busy) {
		s.forgetTries(j.ID)
		return l, err
	}
	s.noteWaiting(bg, j, fmt.Sprintf("waiting for %s of backup vault %q to finish", busy.Holder, j.VaultName))
	if s.countTry(j.ID) < maintenanceTries {
		return nil, errVaultBusy
	}
	s.forgetTries(j.ID)
	wctx, cancel := context.WithTimeout(ctx, maintenanceWait)
	defer cancel()
	l, err = s.leaseVault(wctx, v, vaults.Exclusive, purposeMaintenance, true)
	if err != nil && ctx.Err() == nil && wctx.Err() != nil {
		return nil, errVaultBusy // waited long enough: try again later
	}
	return l, err
}

// noteWaiting sets a queued job's StatusMessage to why it waits, unless
// the job moved on (stopped, or taken over: its run changed).
func (s *Service) noteWaiting(ctx context.Context, j catalog.MaintenanceJob, why string) {
	if j.StatusMessage == why {
		return
	}
	cur, err := s.db.MaintenanceJob(ctx, j.ID)
	if err != nil || cur.State != StateCreated || cur.Run != j.Run || cur.StatusMessage == why {
		return
	}
	cur.StatusMessage = why
	if _, err := s.db.TransitionMaintenanceJob(ctx, cur, StateCreated); err != nil {
		s.log.Warn("record maintenance job waiting", "job", j.ID, "err", err)
	}
}

// countTry counts one more busy try of job id and returns the count.
func (s *Service) countTry(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maintTries[id]++
	return s.maintTries[id]
}

func (s *Service) forgetTries(id string) {
	s.mu.Lock()
	delete(s.maintTries, id)
	s.mu.Unlock()
}

// runMaintenance runs a claimed (RUNNING) job on the vault whose exclusive
// lease l the caller holds, and records how it ended. One interrupted
// because coffer is stopping goes back to the queue and runs again after
// the restart: maintenance is idempotent.
func (s *Service) runMaintenance(ctx context.Context, j catalog.MaintenanceJob, l *vaults.Lease) error {
	bg := context.WithoutCancel(ctx)
	st, err := s.maintainHeld(ctx, j.VaultName, l)
	cause := context.Cause(ctx)
	from := j.State
	j.Stats, j.CompletedAt = mustJSON(st), s.clock.Now()
	switch {
	case err == nil:
		j.State, j.StatusMessage = StateCompleted, maintenanceMessage(st)
	case errors.Is(cause, errShutdown):
		next := j
		next.State, next.StatusMessage, next.CompletedAt, next.StartedAt, next.Owner = StateCreated,
			"coffer stopped while the job was running; it runs again when coffer is back", time.Time{}, time.Time{}, ""
		ok, rerr := s.db.TransitionMaintenanceJob(bg, next, from)
		if ok {
			return jobqueue.Snooze(shutdownRetry)
		}
		if rerr != nil && !errors.Is(rerr, catalog.ErrExists) {
			s.log.Error("requeue interrupted maintenance job", "job", j.ID, "err", rerr)
		}
		// Another job of the vault is queued: it does the work.
		j.State, j.StatusMessage = StateAborted, "coffer stopped while the job was running; the maintenance job queued for this vault reclaims the rest"
	case errors.Is(cause, errStopped) || jobqueue.IsCancelled(ctx):
		j.State, j.StatusMessage = StateAborted, "stopped by StopMaintenanceJob; the next maintenance of the vault reclaims what this run did not"
	default:
		j.State, j.StatusMessage = StateFailed, err.Error()
	}
	j.StatusMessage = runNote(j.Run) + j.StatusMessage
	if _, err := s.db.TransitionMaintenanceJob(bg, j, from); err != nil {
		s.log.Error("record maintenance job end", "job", j.ID, "err", err)
	}
	s.log.Info("maintenance job ended", "job", j.ID, "vault", j.VaultName, "state", j.State, "message", j.StatusMessage)
	return nil
}

func maintenanceMessage(st vault.MaintenanceStats) string {
	freed := fmt.Sprintf("freed %d bytes", st.FreedBytes)
	if st.FreedBytes <= 0 {
		// The run's own index writes can outweigh what it dropped; data
		// kept by the safety margins goes in a later run.
		freed = "freed no space yet"
	}
	return fmt.Sprintf("%d live recovery points; deleted %d unreferenced contents, %s", st.LiveRecoveryPoints, st.DeletedContents, freed)
}

// MaintainVault reclaims the space of deleted recovery points now, in the
// caller's goroutine and outside the job queue (tests and tools; the
// service itself queues maintenance jobs). It takes the vault's lease
// exclusively: it waits (bounded by ctx) for a moment when no job uses the
// vault, without holding off jobs that start meanwhile; while it runs,
// jobs of the vault wait in the queue.
func (s *Service) MaintainVault(ctx context.Context, name string) (vault.MaintenanceStats, error) {
	v, err := s.Vault(ctx, name)
	if err != nil {
		return vault.MaintenanceStats{}, err
	}
	l, err := s.leaseVault(ctx, v, vaults.Exclusive, purposeMaintenance, true)
	if err != nil {
		return vault.MaintenanceStats{}, err
	}
	defer l.Release()
	return s.maintainHeld(ctx, name, l)
}

// maintainHeld maintains the vault whose exclusive lease l the caller
// holds.
func (s *Service) maintainHeld(ctx context.Context, name string, l *vaults.Lease) (vault.MaintenanceStats, error) {
	if h := s.cfg.TestHooks; h != nil && h.MaintenanceHeld != nil {
		h.MaintenanceHeld(ctx, name)
	}
	if err := ctx.Err(); err != nil {
		return vault.MaintenanceStats{}, fmt.Errorf("maintain vault %q: %w", name, err) // stopped before the sweep began
	}
	st, err := l.Vault().Maintain(ctx)
	if err != nil {
		return st, fmt.Errorf("maintain vault %q: %w", name, err)
	}
	s.log.Info("vault maintained", "vault", name, "live_recovery_points", st.LiveRecoveryPoints,
		"deleted_contents", st.DeletedContents, "freed_bytes", st.FreedBytes)
	return st, nil
}
