package service

import (
	"context"
	"fmt"

	"github.com/cofferbackup/coffer/internal/catalog"
)

// recover brings the catalog in line with the vaults after a start: the
// vaults are the source of truth for recovery points, and jobs that a
// previous process left unfinished are resumed, completed or failed.
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
	return s.recoverJobs(ctx)
}

func (s *Service) reconcileVault(ctx context.Context, v catalog.Vault) error {
	h, err := s.openVault(ctx, v)
	if err != nil {
		return err
	}
	manifests, err := h.v.RecoveryPoints(ctx)
	if err != nil {
		return fmt.Errorf("list recovery points of vault %q: %w", v.Name, err)
	}
	inVault := map[string]bool{}
	for _, m := range manifests {
		inVault[m.ARN] = true
		if _, err := s.db.RecoveryPoint(ctx, v.Name, m.ARN); err == nil {
			continue
		}
		if err := s.registerRecoveryPoint(ctx, m); err != nil {
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

func (s *Service) recoverJobs(ctx context.Context) error {
	jobs, err := allPages(func(p catalog.Page) ([]catalog.BackupJob, string, error) {
		return s.db.ListBackupJobs(ctx, catalog.BackupJobFilter{States: activeBackupStates}, p)
	})
	if err != nil {
		return err
	}
	for i := len(jobs) - 1; i >= 0; i-- { // oldest first
		j := jobs[i]
		switch j.State {
		case StateCreated, StatePending:
			s.launch(j.ID, s.runBackup)
			continue
		case StateAborting:
			j.State, j.StatusMessage = StateAborted, "stopped by StopBackupJob; coffer restarted before the job ended; no recovery point was created"
		default:
			rp, err := s.db.RecoveryPointByARN(ctx, j.RecoveryPointARN)
			if err == nil {
				// The vault committed the recovery point before the stop.
				j.State, j.StatusMessage = rp.Status, "completed; coffer restarted before the job was recorded as done"
			} else {
				j.State, j.StatusMessage = StateFailed, "coffer stopped while the job was running; no recovery point was created; start the backup again"
			}
		}
		j.CompletedAt = s.clock.Now()
		if err := s.db.UpdateBackupJob(ctx, j); err != nil {
			return err
		}
		s.log.Warn("interrupted backup job settled", "job", j.ID, "state", j.State)
	}
	restores, err := allPages(func(p catalog.Page) ([]catalog.RestoreJob, string, error) {
		return s.db.ListRestoreJobs(ctx, catalog.RestoreJobFilter{Statuses: []string{StatePending, StateRunning}}, p)
	})
	if err != nil {
		return err
	}
	for i := len(restores) - 1; i >= 0; i-- {
		j := restores[i]
		if j.Status == StatePending {
			s.launch(j.ID, s.runRestore)
			continue
		}
		j.Status, j.StatusMessage, j.CompletedAt = StateFailed, "coffer stopped while the restore was running; objects restored so far remain; start the restore again", s.clock.Now()
		if err := s.db.UpdateRestoreJob(ctx, j); err != nil {
			return err
		}
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
