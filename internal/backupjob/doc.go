// Package backupjob owns backup jobs: StartBackupJob's validation and the
// job's record, River's handler that waits for the bucket and the vault
// without holding a worker, the run through the backup engine into the
// vault, the recovery point's registration, the job's end (COMPLETED,
// PARTIAL, ABORTED, EXPIRED, FAILED), the start and completion windows,
// the takeover of a dead process's backups, and the scheduler's view of
// backups (scheduler.Backups). It runs on the job core (package jobs) and
// reaches vaults through the inventory's narrow Vaults interface.
package backupjob
