package service

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/jobqueue"
	"github.com/cofferbackup/coffer/internal/vault"
)

// Liveness defaults: a process beats every HeartbeatInterval; one silent
// for DeadAfter is dead, and the leader's takeover pass (every
// TakeoverInterval) gives its jobs to live processes. Together well under
// the two minutes a killed process's jobs may wait.
const (
	DefaultHeartbeatInterval = 5 * time.Second
	DefaultDeadAfter         = 30 * time.Second
	DefaultTakeoverInterval  = 10 * time.Second
	// maxRuns bounds the takeovers of one job: a job that kills every
	// process that runs it must not go round for ever.
	maxRuns = 3
)

// registerProcess records this process's liveness row and starts its
// heartbeat. Its id is also its River client id, so River's attempted_by
// names coffer processes.
func (s *Service) registerProcess(ctx context.Context) error {
	host, _ := os.Hostname()
	p := catalog.Process{ID: s.procID, Host: host, PID: int64(os.Getpid()), StartedAt: s.clock.Now()}
	if err := s.db.RegisterProcess(ctx, p); err != nil {
		return err
	}
	s.bg.Add(1)
	go s.heartbeat()
	return nil
}

func (s *Service) heartbeat() {
	defer s.bg.Done()
	t := time.NewTicker(s.cfg.HeartbeatInterval)
	defer t.Stop()
	// Fence after the failed beats that bring our silence near DeadAfter
	// (one interval of margin), counted in beats rather than read off a
	// clock.
	fenceAfter := max(int((s.cfg.DeadAfter-s.cfg.HeartbeatInterval)/s.cfg.HeartbeatInterval), 1)
	failed := 0
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			err := s.db.Heartbeat(s.ctx, s.procID)
			if err == nil || s.ctx.Err() != nil {
				failed = 0
				continue
			}
			// Keep beating: a database back before our silence reaches
			// DeadAfter finds us alive.
			s.log.Error("heartbeat", "err", err)
			if failed++; failed == fenceAfter && s.shared() {
				s.log.Error("catalog database unreachable for too long: stopping this process's jobs for the others to take over",
					"jobs", s.fence())
			}
		}
	}
}

// deadFunc reports whether the process that owns job id is dead. A job
// this process owns but no longer runs (its handler was fenced off, or
// ended without recording the job's end) counts as a dead owner's too.
type deadFunc func(ctx context.Context, owner, id string) (bool, error)

// othersDead is the start-up view on SQLite: the data-directory lock
// proves that no other process runs.
func (s *Service) othersDead(_ context.Context, owner, id string) (bool, error) {
	return owner != s.procID || !s.runsLocally(id), nil
}

// silentDead is the view of several processes: a process is dead once it
// has stopped or been silent for DeadAfter on the database's clock.
func (s *Service) silentDead(ctx context.Context, owner, id string) (bool, error) {
	if owner == s.procID {
		return !s.runsLocally(id), nil
	}
	alive, err := s.db.ProcessAlive(ctx, owner, s.cfg.DeadAfter)
	return !alive, err
}

// TakeOver gives the jobs of dead processes to live ones: a running job
// is queued again with its run number raised (it runs from the start; a
// restore resumes), unless its recovery point made it into the vault
// (then it completed) or it was being stopped (then it is aborted); a
// queued job whose River job a dead process had picked up gets a new
// River job. It returns how many jobs it moved.
func (s *Service) TakeOver(ctx context.Context) (int, error) {
	return s.takeOver(ctx, s.silentDead)
}

func (s *Service) takeOver(ctx context.Context, dead deadFunc) (int, error) {
	b, err := s.takeOverBackups(ctx, dead)
	if err != nil {
		return b, err
	}
	r, err := s.takeOverRestores(ctx, dead)
	if err != nil {
		return b + r, err
	}
	m, err := s.takeOverMaintenance(ctx, dead)
	return b + r + m, err
}

func (s *Service) takeOverBackups(ctx context.Context, dead deadFunc) (int, error) {
	jobs, err := allPages(func(p catalog.Page) ([]catalog.BackupJob, string, error) {
		return s.db.ListBackupJobs(ctx, catalog.BackupJobFilter{States: activeBackupStates}, p)
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for i := len(jobs) - 1; i >= 0; i-- { // oldest first
		moved, err := s.takeOverBackup(ctx, jobs[i], dead)
		if err != nil {
			return n, fmt.Errorf("take over backup job %s: %w", jobs[i].ID, err)
		}
		if moved {
			n++
		}
	}
	return n, nil
}

func (s *Service) takeOverBackup(ctx context.Context, j catalog.BackupJob, dead deadFunc) (bool, error) {
	if j.State == StateCreated || j.State == StatePending {
		return s.rescueQueued(ctx, kindBackup, j.ID, j.Run, dead, func(msg string, then catalog.TxFunc) (bool, error) {
			next := j
			next.Run++
			if then == nil {
				next.State, next.CompletedAt = StateFailed, s.clock.Now()
			}
			next.StatusMessage = msg
			return s.db.TransitionBackupJobTx(ctx, next, then, j.State)
		})
	}
	gone, err := dead(ctx, j.Owner, j.ID)
	if err != nil || !gone {
		return false, err
	}
	from := j.State
	note := fmt.Sprintf("process %s that ran it stopped", orUnknown(j.Owner))
	rp, err := s.db.RecoveryPointByARN(ctx, j.RecoveryPointARN)
	var then catalog.TxFunc
	switch {
	case err == nil:
		j.State, j.StatusMessage, j.CompletedAt = rp.Status, "completed; "+note+" before the job was recorded as done", s.clock.Now()
	case !errors.Is(err, catalog.ErrNotFound):
		return false, err
	case j.State == StateAborting:
		j.State, j.StatusMessage, j.CompletedAt = StateAborted, "stopped by StopBackupJob; "+note+" before the job ended; no recovery point was created", s.clock.Now()
	case j.Run+1 >= maxRuns:
		j.State, j.StatusMessage, j.CompletedAt = StateFailed, fmt.Sprintf("%s; the job was taken over %d times and is given up; start the backup again", note, j.Run), s.clock.Now()
	default:
		j.Run++
		j.State, j.Owner, j.StartedAt, j.PercentDone, j.BytesTransferred, j.BackupSize, j.Stats = StateCreated, "", time.Time{}, "0.0", 0, 0, "{}"
		j.StatusMessage = fmt.Sprintf("taken over: %s; running again from the start (run %d)", note, j.Run+1)
		then = s.enqueueRun(ctx, kindBackup, j.ID, j.Run)
	}
	ok, err := s.db.TransitionBackupJobTx(ctx, j, then, from)
	if ok {
		s.log.Warn("backup job of a dead process taken over", "job", j.ID, "owner", j.Owner, "state", j.State)
	}
	return ok, err
}

func (s *Service) takeOverRestores(ctx context.Context, dead deadFunc) (int, error) {
	jobs, err := allPages(func(p catalog.Page) ([]catalog.RestoreJob, string, error) {
		return s.db.ListRestoreJobs(ctx, catalog.RestoreJobFilter{Statuses: []string{StatePending, StateRunning}}, p)
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for i := len(jobs) - 1; i >= 0; i-- {
		moved, err := s.takeOverRestore(ctx, jobs[i], dead)
		if err != nil {
			return n, fmt.Errorf("take over restore job %s: %w", jobs[i].ID, err)
		}
		if moved {
			n++
		}
	}
	return n, nil
}

func (s *Service) takeOverRestore(ctx context.Context, j catalog.RestoreJob, dead deadFunc) (bool, error) {
	if j.Status == StatePending {
		return s.rescueQueued(ctx, kindRestore, j.ID, j.Run, dead, func(msg string, then catalog.TxFunc) (bool, error) {
			next := j
			next.Run++
			if then == nil {
				next.Status, next.CompletedAt = StateFailed, s.clock.Now()
			}
			next.StatusMessage = msg
			return s.db.TransitionRestoreJobTx(ctx, next, then, StatePending)
		})
	}
	gone, err := dead(ctx, j.Owner, j.ID)
	if err != nil || !gone {
		return false, err
	}
	note := fmt.Sprintf("process %s that ran it stopped", orUnknown(j.Owner))
	var then catalog.TxFunc
	if j.Run+1 >= maxRuns {
		j.Status, j.CompletedAt = StateFailed, s.clock.Now()
		j.StatusMessage = fmt.Sprintf("%s; the restore was taken over %d times and is given up; objects restored so far remain", note, j.Run)
	} else {
		j.Run++
		j.Status, j.Owner = StatePending, ""
		j.StatusMessage = fmt.Sprintf("taken over: %s; resuming (run %d)", note, j.Run+1)
		then = s.enqueueRun(ctx, kindRestore, j.ID, j.Run)
	}
	ok, err := s.db.TransitionRestoreJobTx(ctx, j, then, StateRunning)
	if ok {
		s.log.Warn("restore job of a dead process taken over", "job", j.ID, "status", j.Status)
	}
	return ok, err
}

func (s *Service) takeOverMaintenance(ctx context.Context, dead deadFunc) (int, error) {
	jobs, err := allPages(func(p catalog.Page) ([]catalog.MaintenanceJob, string, error) {
		return s.db.ListMaintenanceJobs(ctx, catalog.MaintenanceJobFilter{States: []string{StateCreated, StateRunning}}, p)
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for i := len(jobs) - 1; i >= 0; i-- {
		moved, err := s.takeOverMaintenanceJob(ctx, jobs[i], dead)
		if err != nil {
			return n, fmt.Errorf("take over maintenance job %s: %w", jobs[i].ID, err)
		}
		if moved {
			n++
		}
	}
	return n, nil
}

// takeOverMaintenanceJob queues a dead process's running maintenance job
// again: maintenance is idempotent, so it simply runs again. If another
// job of the vault is queued meanwhile, that one does the work and this
// one ends ABORTED.
func (s *Service) takeOverMaintenanceJob(ctx context.Context, j catalog.MaintenanceJob, dead deadFunc) (bool, error) {
	if j.State == StateCreated {
		return s.rescueQueued(ctx, kindMaintenance, j.ID, j.Run, dead, func(msg string, then catalog.TxFunc) (bool, error) {
			next := j
			next.Run++
			if then == nil {
				next.State, next.CompletedAt = StateFailed, s.clock.Now()
			}
			next.StatusMessage = msg
			return s.db.TransitionMaintenanceJobTx(ctx, next, then, StateCreated)
		})
	}
	gone, err := dead(ctx, j.Owner, j.ID)
	if err != nil || !gone {
		return false, err
	}
	note := fmt.Sprintf("process %s that ran it stopped", orUnknown(j.Owner))
	next := j
	var then catalog.TxFunc
	if j.Run+1 >= maxRuns {
		next.State, next.CompletedAt = StateFailed, s.clock.Now()
		next.StatusMessage = fmt.Sprintf("%s; the job was taken over %d times and is given up; start maintenance of the vault again", note, j.Run)
	} else {
		next.Run++
		next.State, next.Owner, next.StartedAt, next.Stats = StateCreated, "", time.Time{}, "{}"
		next.StatusMessage = fmt.Sprintf("taken over: %s; running again (run %d)", note, next.Run+1)
		then = s.enqueueRun(ctx, kindMaintenance, j.ID, next.Run)
	}
	ok, err := s.db.TransitionMaintenanceJobTx(ctx, next, then, StateRunning)
	if errors.Is(err, catalog.ErrExists) {
		next = j
		next.State, next.CompletedAt = StateAborted, s.clock.Now()
		next.StatusMessage = note + "; the maintenance job queued for this vault does the work"
		ok, err = s.db.TransitionMaintenanceJob(ctx, next, StateRunning)
	}
	if ok {
		s.log.Warn("maintenance job of a dead process taken over", "job", j.ID, "owner", j.Owner, "state", next.State)
	}
	return ok, err
}

// rescueQueued makes sure a queued job has a River job that will run it.
// A job without one (older catalogs, a cleaned row) is enqueued; one whose
// River job a dead process had picked up, or that River ended without
// running it, gets a new River job (its run raised through requeue, with
// a TxFunc that enqueues); requeue with a nil TxFunc fails the job.
func (s *Service) rescueQueued(ctx context.Context, kind, id string, run int, dead deadFunc,
	requeue func(msg string, then catalog.TxFunc) (bool, error)) (bool, error) {
	info, err := s.queue.Lookup(ctx, kind, id)
	if errors.Is(err, jobqueue.ErrNotFound) {
		return false, s.queue.Enqueue(ctx, argsFor(kind, id, run))
	}
	if err != nil {
		return false, err
	}
	switch info.State {
	case jobqueue.StateCompleted, jobqueue.StateCancelled, jobqueue.StateDiscarded:
		s.log.Error("queued job lost by the job queue; queuing it again", "kind", kind, "job", id, "queue_state", info.State)
	case jobqueue.StateRunning:
		holder := ""
		if len(info.AttemptedBy) > 0 {
			holder = info.AttemptedBy[len(info.AttemptedBy)-1]
		}
		if holder == s.procID {
			return false, nil // our own handler is looking at it right now
		}
		if gone, err := dead(ctx, holder, id); err != nil || !gone {
			return false, err
		}
		// River keeps that row running until its rescuer, days later.
		s.log.Warn("queued job was being picked up by a process that died; queuing it again", "kind", kind, "job", id, "process", holder)
	default:
		return false, nil
	}
	if run+1 >= maxRuns {
		return requeue("the job queue lost this job several times before it ran; start it again", nil)
	}
	return requeue("queued again: the job queue lost it before it ran", s.enqueueRun(ctx, kind, id, run+1))
}

// enqueueRun returns the TxFunc that queues run of job id of kind in the
// transaction of the job's change.
func (s *Service) enqueueRun(ctx context.Context, kind, id string, run int) catalog.TxFunc {
	return s.enqueueArgs(ctx, argsFor(kind, id, run))
}

func orUnknown(owner string) string {
	if owner == "" {
		return "(unknown)"
	}
	return owner
}

// shared reports whether several processes may share this catalog and
// data directory (PostgreSQL); on SQLite one process owns both.
func (s *Service) shared() bool { return IsPostgresURL(s.cfg.Database) }

// cacheRoot holds each process's own vault caches when processes share
// the data directory: DataDir/cache/<process id>/<vault id>.
func (s *Service) cacheRoot() string {
	return filepath.Join(s.cfg.DataDir, "cache", s.procID)
}

// pruneCaches removes the vault caches of processes that are dead (a
// killed process cannot remove its own).
func (s *Service) pruneCaches(ctx context.Context) {
	if !s.shared() || s.cfg.Vaults != nil {
		return
	}
	root := filepath.Dir(s.cacheRoot())
	entries, err := os.ReadDir(root)
	if err != nil {
		return // none yet
	}
	for _, e := range entries {
		if e.Name() == s.procID {
			continue
		}
		if dead, err := s.silentDead(ctx, e.Name(), ""); err != nil || !dead {
			continue
		}
		if err := os.RemoveAll(filepath.Join(root, e.Name())); err != nil {
			s.log.Warn("remove the vault caches of a dead process", "process", e.Name(), "err", err)
		}
	}
}

// vaultOptions are the options every vault opens with. On SQLite this
// process is each vault's only writer (the data-directory lock refuses a
// second one, and the registry opens one handle per vault), so maintenance
// may reclaim space at once; where processes share the vaults, kopia's
// full safety margins protect what another process's session has just
// written, and each process maintains under its own owner name.
func (s *Service) vaultOptions() vault.Options {
	if !s.shared() {
		return vault.Options{Safety: vault.SafetySoleWriter}
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return vault.Options{Safety: vault.SafetyFull, Owner: s.procID + "@" + host}
}
