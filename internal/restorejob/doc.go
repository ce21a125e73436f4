// Package restorejob owns restore jobs: StartRestoreJob's validation of
// the recovery point and its metadata (destination, versions, items,
// ACLs, overwrite), River's handler, the run through the restore engine
// and the job's end, and the takeover of a dead process's restores (which
// resume what the earlier run wrote). It runs on the job core (package
// jobs) and reaches vaults through a narrow Vaults interface.
package restorejob
