package service

import "context"

// TestHooks hold jobs at known points so that tests can make "long"
// deterministic. For tests only: production leaves Config.TestHooks nil.
type TestHooks struct {
	// RestoreRunning is called by a restore job that is RUNNING and holds
	// its vault's lease, before it reads anything; the restore goes on
	// when it returns (it should return when ctx ends).
	RestoreRunning func(ctx context.Context, jobID string)
	// MaintenanceHeld is called by maintenance (a maintenance job or
	// MaintainVault) once it holds the vault's exclusive lease, before it
	// maintains; likewise.
	MaintenanceHeld func(ctx context.Context, vaultName string)
	// BackupRunning is called by a backup job that is RUNNING and holds
	// its vault's lease, before it reads anything; likewise.
	BackupRunning func(ctx context.Context, jobID string)
	// BackupCommitted is called by a backup job once its recovery point
	// is committed to the vault, before the catalog records it; likewise.
	BackupCommitted func(ctx context.Context, jobID string)
	// AfterRetain is called by maintenance between the retention of a
	// continuous recovery point's capture log (committed) and its sweep;
	// an error stops the compaction there, as a crash would.
	AfterRetain func(ctx context.Context, rpARN string) error
}
