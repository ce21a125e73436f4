package service

import (
	"context"
	"fmt"
	"time"

	"github.com/cofferbackup/coffer/internal/backupjob"
	"github.com/cofferbackup/coffer/internal/capture"
	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/copyjob"
	"github.com/cofferbackup/coffer/internal/inventory"
	"github.com/cofferbackup/coffer/internal/jobqueue"
	"github.com/cofferbackup/coffer/internal/jobreport"
	"github.com/cofferbackup/coffer/internal/jobs"
	"github.com/cofferbackup/coffer/internal/maintenance"
	"github.com/cofferbackup/coffer/internal/restorejob"
	"github.com/cofferbackup/coffer/internal/retention"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vaultlock"
	"github.com/cofferbackup/coffer/internal/verifyjob"
)

// compose builds the owners on the open catalog, each with only what it
// needs: the job core first, then the inventory, the job kinds (each
// registers itself with the core), the scheduler and retention.
func (s *Service) compose() {
	s.core = jobs.New(jobs.Config{DB: s.db, Clock: s.clock, Log: s.log, ProcID: s.procID,
		Life: s.ctx, Shared: s.shared(), DeadAfter: s.cfg.DeadAfter})
	s.inv = inventory.New(inventory.Config{DB: s.db, Jobs: s.jobStore, Holds: s.holdStore, Captures: s.captureStore, Store: s.store, Names: s.names(), Clock: s.clock, Log: s.log,
		Secret:   func(id string) string { return vaultSecret(s.cfg.MasterKey, id) },
		Targeted: s.planTargets, Bucket: s.vaultBucket, ObjectLockDays: s.cfg.ObjectLockDays, DefaultLocation: s.cfg.VaultLocation, KeepIdleVaults: s.cfg.IdleVaults,
		MayDelete: func(ctx context.Context, rp catalog.RecoveryPoint, expiry bool) error {
			return s.locks.MayDelete(ctx, rp, expiry)
		}})
	s.locks = vaultlock.New(vaultlock.Config{DB: s.db, Holds: s.holdStore, Clock: s.clock, Log: s.log, Names: s.names(), Recorder: s.inv})
	hooks := s.cfg.TestHooks
	if hooks == nil {
		hooks = &TestHooks{}
	}
	hasher := jobreport.NewHasher(keyHashSecret(s.cfg.MasterKey))
	deps := jobs.Deps{DB: s.db, Jobs: s.jobStore, Clock: s.clock, Log: s.log, Core: s.core}
	s.backups = backupjob.New(backupjob.Config{Deps: deps, Vaults: s.inv,
		Names: s.names(), Source: s.source, Parallelism: s.cfg.Parallelism, Committed: hooks.BackupCommitted, Running: hooks.BackupRunning, Hasher: hasher,
		Retention: s.locks.CheckRetention, Ended: func(ctx context.Context, j jobstore.BackupJob) { s.copies.AfterBackup(ctx, j) }})
	s.restores = restorejob.New(restorejob.Config{Deps: deps, Vaults: s.inv,
		Source: s.source, Parallelism: s.cfg.Parallelism, Running: hooks.RestoreRunning, Hasher: hasher})
	s.copies = copyjob.New(copyjob.Config{Deps: deps, Plans: s.planStore, Vaults: s.inv, Names: s.names(), Retention: s.locks.CheckRetention, Hasher: hasher, Parallelism: s.cfg.Parallelism})
	s.verifications = verifyjob.New(verifyjob.Config{Deps: deps, Vaults: s.inv, Names: s.names(), SealKey: verificationSealKey(s.cfg.MasterKey)})
	s.maint = maintenance.New(maintenance.Config{Deps: deps, Vaults: s.inv, Held: hooks.MaintenanceHeld,
		Compact: func(ctx context.Context, name string, v *vault.Vault) error {
			return s.captures.CompactVault(ctx, name, v)
		}})
	s.plans = s.newScheduler()
	s.captures = capture.New(capture.Config{Deps: deps, Captures: s.captureStore, Vaults: s.inv, Names: s.names(), Source: s.source,
		Targets: s.continuousTargets, ReconcileInterval: s.cfg.ReconcileInterval, Parallelism: s.cfg.Parallelism, Stall: s.cfg.ContinuousStall,
		CompactRound: s.cfg.CompactRound, AfterRetain: hooks.AfterRetain,
		MayDelete: func(ctx context.Context, rp catalog.RecoveryPoint, expiry bool) error {
			return s.locks.MayDelete(ctx, rp, expiry)
		}})
	s.expiry = retention.New(retention.Config{DB: s.db, Clock: s.clock, Delete: s.inv.ExpireRecoveryPoint,
		Reclaim: func(ctx context.Context, vaultName string) { s.maint.Later(ctx, vaultName, TriggerExpiry) }})
}

// openQueue opens River on the catalog's database (on PostgreSQL its pool
// and schema), with the worker of every job kind and the leader's
// periodic work. Workers bound the jobs this process runs at once.
func (s *Service) openQueue(ctx context.Context) error {
	kinds := jobqueue.NewKinds()
	for _, register := range []func(*jobqueue.Kinds) error{s.backups.Register, s.restores.Register, s.copies.Register, s.verifications.Register, s.maint.Register, s.captures.Register} {
		if err := register(kinds); err != nil {
			return fmt.Errorf("open job queue: %w", err)
		}
	}
	cfg := jobqueue.Config{
		Kinds:        kinds,
		Periodic:     s.periodic(),
		ClientID:     s.procID,
		Workers:      s.cfg.MaxConcurrentJobs,
		Logger:       s.log.With("component", "jobqueue"),
		MaxAttempts:  1, // an interrupted job is settled by recover and the takeover
		PollInterval: 200 * time.Millisecond,
		StopTimeout:  10 * time.Second,
	}
	var q *jobqueue.Queue
	var err error
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
	s.core.SetQueue(q)
	return nil
}

// recover brings the catalog in line with the vaults after a start (the
// vaults are the truth: see inventory.Reconcile), then settles the jobs a
// previous process left unfinished. On SQLite the data-directory lock
// proves that no other process runs, so every job another process owned
// is taken over at once; on PostgreSQL only those of dead processes (the
// rest by the leader's periodic pass once their owners fall silent).
func (s *Service) recover(ctx context.Context) error {
	if err := s.inv.Reconcile(ctx); err != nil {
		return err
	}
	dead := s.core.OthersDead
	if s.shared() {
		dead = s.core.SilentDead
	}
	n, err := s.core.TakeOver(ctx, dead)
	if n > 0 {
		s.log.Warn("jobs of a previous process taken over", "count", n)
	}
	return err
}
