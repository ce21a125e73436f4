package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/jobqueue"
	"github.com/cofferbackup/coffer/internal/vault"
)

// recover brings the catalog in line with the vaults after a start: the
// vaults are the source of truth for vaults and recovery points (the
// catalog's vaults are reconciled with their files, then the vaults the
// catalog lacks are registered from theirs), and jobs that a previous
// process left unfinished are resumed, completed or failed.
func (s *Service) recover(ctx context.Context) error {
	vaults, err := s.db.AllVaults(ctx)
	if err != nil {
		return err
	}
	for _, v := range vaults {
		if err := s.reconcileVault(ctx, v); err != nil {
			// One broken vault must not keep the others from serving.
			s.log.Error("reconcile vault", "vault", v.Name, "err", err)
		}
	}
	if err := s.rebuildFromStore(ctx); err != nil {
		return fmt.Errorf("rebuild catalog from the vault store: %w", err)
	}
	return s.recoverJobs(ctx)
}

func (s *Service) reconcileVault(ctx context.Context, v catalog.Vault) error {
	h, err := s.openVault(ctx, v)
	if err != nil {
		return err
	}
	// A vault made before vaults described themselves gets its descriptor
	// now, so that it can be rebuilt from its files too.
	if _, err := h.v.Descriptor(ctx); errors.Is(err, vault.ErrNotFound) {
		if err := h.v.PutDescriptor(ctx, descriptorOf(v)); err != nil {
			return err
		}
		s.log.Info("vault descriptor written", "vault", v.Name)
	} else if err != nil {
		return err
	}
	manifests, err := h.v.RecoveryPoints(ctx)
	if err != nil {
		return fmt.Errorf("list recovery points of vault %q: %w", v.Name, err)
	}
	var tags map[string]vault.RecoveryPointTags
	inVault := map[string]bool{}
	for _, m := range manifests {
		inVault[m.ARN] = true
		if _, err := s.db.RecoveryPoint(ctx, v.Name, m.ARN); err == nil {
			continue
		}
		if tags == nil {
			if tags, err = h.v.AllRecoveryPointTags(ctx); err != nil {
				return err
			}
		}
		if err := s.registerFromVault(ctx, v.Name, m, tags); err != nil {
			return err
		}
		s.log.Warn("recovery point found in vault but not in catalog; registered", "vault", v.Name, "rp", m.ARN)
	}
	p := catalog.Page{Max: 1000}
	for {
		rps, tok, err := s.db.ListRecoveryPoints(ctx, catalog.RecoveryPointFilter{VaultName: v.Name}, p)
		if err != nil {
			return err
		}
		for _, rp := range rps {
			if inVault[rp.ARN] {
				continue
			}
			s.log.Warn("recovery point in catalog but not in vault; dropped from catalog", "vault", v.Name, "rp", rp.ARN)
			if err := s.db.DeleteRecoveryPoint(ctx, rp.ARN); err != nil {
				return err
			}
		}
		if tok == "" {
			return nil
		}
		p.Token = tok
	}
}

// recoverJobs settles the jobs a previous process left unfinished: queued
// ones stay queued (re-queued if their River job is missing), running ones
// end FAILED, or COMPLETED if their recovery point reached the vault.
// Only one process uses a data directory (lockDir), so nothing else runs
// them. River's own row of a settled running job is discarded later by its
// rescuer, and its handler would leave the finished job alone.
func (s *Service) recoverJobs(ctx context.Context) error {
	jobs, err := allPages(func(p catalog.Page) ([]catalog.BackupJob, string, error) {
		return s.db.ListBackupJobs(ctx, catalog.BackupJobFilter{States: activeBackupStates}, p)
	})
	if err != nil {
		return err
	}
	for i := len(jobs) - 1; i >= 0; i-- { // oldest first
		j := jobs[i]
		if j.State == StateCreated || j.State == StatePending {
			if err := s.requeue(ctx, jobqueue.KindBackup, j.ID, func(msg string) error {
				_, err := s.db.TransitionBackupJob(ctx, failed(j, msg, s.clock.Now()), StateCreated, StatePending)
				return err
			}); err != nil {
				return err
			}
			continue
		}
		rp, err := s.db.RecoveryPointByARN(ctx, j.RecoveryPointARN)
		switch {
		case err == nil:
			// The vault committed the recovery point before the stop.
			j.State, j.StatusMessage = rp.Status, "completed; coffer restarted before the job was recorded as done"
		case !errors.Is(err, catalog.ErrNotFound):
			return err
		case j.State == StateAborting:
			j.State, j.StatusMessage = StateAborted, "stopped by StopBackupJob; coffer restarted before the job ended; no recovery point was created"
		default:
			j.State, j.StatusMessage = StateFailed, "coffer stopped while the job was running; no recovery point was created; start the backup again"
		}
		j.CompletedAt = s.clock.Now()
		if _, err := s.db.TransitionBackupJob(ctx, j, StateRunning, StateAborting); err != nil {
			return err
		}
		s.log.Warn("interrupted backup job settled", "job", j.ID, "state", j.State)
	}
	return s.recoverRestores(ctx)
}

func failed(j catalog.BackupJob, msg string, now time.Time) catalog.BackupJob {
	j.State, j.StatusMessage, j.CompletedAt = StateFailed, msg, now
	return j
}

func (s *Service) recoverRestores(ctx context.Context) error {
	restores, err := allPages(func(p catalog.Page) ([]catalog.RestoreJob, string, error) {
		return s.db.ListRestoreJobs(ctx, catalog.RestoreJobFilter{Statuses: []string{StatePending, StateRunning}}, p)
	})
	if err != nil {
		return err
	}
	for i := len(restores) - 1; i >= 0; i-- {
		j := restores[i]
		fail := func(msg string) error {
			j.Status, j.StatusMessage, j.CompletedAt = StateFailed, msg, s.clock.Now()
			_, err := s.db.TransitionRestoreJob(ctx, j, StatePending, StateRunning)
			return err
		}
		if j.Status == StatePending {
			if err := s.requeue(ctx, jobqueue.KindRestore, j.ID, fail); err != nil {
				return err
			}
			continue
		}
		if err := fail("coffer stopped while the restore was running; objects restored so far remain; start the restore again"); err != nil {
			return err
		}
	}
	return nil
}

// requeue makes sure a queued job has a River job that will run it. A job
// recorded before coffer used River, or whose River row was cleaned, is
// enqueued; one whose River job ended without running it (which a handler
// never does) or is held by a dead process is failed with fail, so it does
// not stay queued forever.
func (s *Service) requeue(ctx context.Context, kind, id string, fail func(msg string) error) error {
	info, err := s.queue.Lookup(ctx, kind, id)
	switch {
	case errors.Is(err, jobqueue.ErrNotFound):
		return s.queue.Enqueue(ctx, kind, id)
	case err != nil:
		return err
	}
	switch info.State {
	case jobqueue.StateCompleted, jobqueue.StateCancelled, jobqueue.StateDiscarded:
		s.log.Error("queued job lost by the job queue; failing it", "kind", kind, "job", id, "queue_state", info.State)
		return fail("the job queue lost this job before it ran (" + info.State + "); start it again")
	case jobqueue.StateRunning:
		// The previous process died while its handler was looking at the
		// job (this process holds the data directory, so no other runs
		// it). River keeps that row running until its rescuer, days
		// later, and a job id is queued once: fail the job now.
		s.log.Error("queued job was being picked up when coffer died; failing it", "kind", kind, "job", id)
		return fail("coffer stopped while it was picking this job up; start it again")
	}
	return nil
}

// allPages collects every page of a listing (newest first, as listed).
func allPages[T any](list func(catalog.Page) ([]T, string, error)) ([]T, error) {
	var all []T
	p := catalog.Page{Max: 1000}
	for {
		items, tok, err := list(p)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if tok == "" {
			return all, nil
		}
		p.Token = tok
	}
}
