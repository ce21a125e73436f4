package service

import (
	"context"

	"github.com/cofferbackup/coffer/internal/backupjob"
	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/jobreport"
	"github.com/cofferbackup/coffer/internal/jobs"
	"github.com/cofferbackup/coffer/internal/maintenance"
	"github.com/cofferbackup/coffer/internal/restore"
	"github.com/cofferbackup/coffer/internal/restorejob"
	"github.com/cofferbackup/coffer/internal/vaultmaint"
)

// Job states as the API reports them (vocab owns them and their
// transition table).
const (
	StateCreated   = jobs.StateCreated
	StatePending   = jobs.StatePending
	StateRunning   = jobs.StateRunning
	StateAborting  = jobs.StateAborting
	StateAborted   = jobs.StateAborted
	StateCompleted = jobs.StateCompleted
	StateFailed    = jobs.StateFailed
	StateExpired   = jobs.StateExpired
	StatePartial   = jobs.StatePartial
)

// The inputs and vocabulary of the job kinds, under the names the API
// layer uses.
type (
	StartBackupInput  = backupjob.StartBackupInput
	StartRestoreInput = restorejob.StartRestoreInput
	// RestorePreview is what a restore or rollback would do.
	RestorePreview = restore.Preview
)

// Backup options and restore metadata keys coffer understands.
const (
	OptBackupACLs         = backupjob.OptBackupACLs
	OptBackupObjectTags   = backupjob.OptBackupObjectTags
	MetaDestinationBucket = restorejob.MetaDestinationBucket
	MetaNewBucket         = restorejob.MetaNewBucket
	MetaItemsToRestore    = restorejob.MetaItemsToRestore
	MetaVersionsUpTo      = restorejob.MetaVersionsUpTo
	MetaRestoreACLs       = restorejob.MetaRestoreACLs
	MetaOverwrite         = restorejob.MetaOverwrite
	MetaRestoreMode       = restorejob.MetaRestoreMode
)

// What asked for a maintenance job (its Trigger).
const (
	TriggerRecoveryPointDeleted = maintenance.TriggerRecoveryPointDeleted
	TriggerExpiry               = maintenance.TriggerExpiry
	TriggerPeriodic             = maintenance.TriggerPeriodic
	TriggerOnDemand             = maintenance.TriggerOnDemand
)

// DefaultMaintenanceInterval is how often the leader queues maintenance of
// every vault (Config.MaintenanceInterval).
const DefaultMaintenanceInterval = maintenance.DefaultMaintenanceInterval

// StartBackupJob validates the request, records a job and queues it.
func (s *Service) StartBackupJob(ctx context.Context, in StartBackupInput) (jobstore.BackupJob, error) {
	return s.backups.Start(ctx, in)
}

// BackupJob describes one backup job.
func (s *Service) BackupJob(ctx context.Context, id string) (jobstore.BackupJob, error) {
	return s.backups.Job(ctx, id)
}

// ListBackupJobs lists backup jobs newest first.
func (s *Service) ListBackupJobs(ctx context.Context, f jobstore.BackupJobFilter, p catalog.Page) ([]jobstore.BackupJob, string, error) {
	return s.jobStore.ListBackupJobs(ctx, f, p)
}

// StopBackupJob aborts a backup job that has not finished.
func (s *Service) StopBackupJob(ctx context.Context, id string) error { return s.backups.Stop(ctx, id) }

// EnforceWindows ends the backup jobs whose start or completion window
// has passed; the leader runs it periodically.
func (s *Service) EnforceWindows(ctx context.Context) (int, error) {
	return s.backups.EnforceWindows(ctx)
}

// StartRestoreJob validates a restore request, records it and queues it.
func (s *Service) StartRestoreJob(ctx context.Context, in StartRestoreInput) (jobstore.RestoreJob, error) {
	return s.restores.Start(ctx, in)
}

// PreviewRestore tells what StartRestoreJob with in would write, skip
// and delete-mark now, writing nothing (coffer's extension).
func (s *Service) PreviewRestore(ctx context.Context, in StartRestoreInput, maxKeys int) (RestorePreview, error) {
	return s.restores.Preview(ctx, in, maxKeys)
}

// RestoreJob describes one restore job.
func (s *Service) RestoreJob(ctx context.Context, id string) (jobstore.RestoreJob, error) {
	return s.restores.Job(ctx, id)
}

// RestoreJobReport returns a restore job's report, kept in its vault: the
// items asked for, the keys skipped and failed.
func (s *Service) RestoreJobReport(ctx context.Context, id string) (jobreport.Report, error) {
	return s.restores.Report(ctx, id)
}

// BackupJobReport returns a backup job's report, kept in its vault: the
// versions that failed.
func (s *Service) BackupJobReport(ctx context.Context, id string) (jobreport.Report, error) {
	return s.backups.Report(ctx, id)
}

// ListRestoreJobs lists restore jobs newest first.
func (s *Service) ListRestoreJobs(ctx context.Context, f jobstore.RestoreJobFilter, p catalog.Page) ([]jobstore.RestoreJob, string, error) {
	return s.jobStore.ListRestoreJobs(ctx, f, p)
}

// StartMaintenanceJob queues maintenance of a vault (the on-demand
// extension); a maintenance job of the vault already queued is returned.
func (s *Service) StartMaintenanceJob(ctx context.Context, vaultName string) (jobstore.MaintenanceJob, error) {
	return s.maint.Start(ctx, vaultName)
}

// MaintenanceJob describes one maintenance job.
func (s *Service) MaintenanceJob(ctx context.Context, id string) (jobstore.MaintenanceJob, error) {
	return s.maint.Job(ctx, id)
}

// ListMaintenanceJobs lists maintenance jobs newest first.
func (s *Service) ListMaintenanceJobs(ctx context.Context, f jobstore.MaintenanceJobFilter, p catalog.Page) ([]jobstore.MaintenanceJob, string, error) {
	return s.jobStore.ListMaintenanceJobs(ctx, f, p)
}

// StopMaintenanceJob stops a maintenance job that has not finished.
func (s *Service) StopMaintenanceJob(ctx context.Context, id string) error {
	return s.maint.Stop(ctx, id)
}

// MaintainAllVaults queues maintenance of every vault; the leader runs it
// periodically.
func (s *Service) MaintainAllVaults(ctx context.Context) (int, error) { return s.maint.All(ctx) }

// MaintainVault reclaims the space of deleted recovery points now, in the
// caller's goroutine and outside the job queue (tests and tools).
func (s *Service) MaintainVault(ctx context.Context, name string) (vaultmaint.Stats, error) {
	return s.maint.MaintainVault(ctx, name)
}

// TakeOver gives the jobs of dead processes to live ones (see jobs.Core);
// the leader runs it periodically.
func (s *Service) TakeOver(ctx context.Context) (int, error) {
	return s.core.TakeOver(ctx, s.core.SilentDead)
}
