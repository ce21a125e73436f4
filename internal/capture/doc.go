// Package capture owns continuous protection (issue 8,
// docs/design/continuous-backup.md): the protections made from backup
// rules with EnableContinuousBackup (one continuous recovery point per
// bucket and vault, in the catalog's continuous_protection and
// recovery_points), and the capture job kind that fills their capture
// log (internal/capturelog) in the vault: reconciliation scans
// (ListObjectVersions merge-joined with the state at the scan's start)
// and batches of the event inbox (POST /events/s3). One capture job per
// protection is queued or running at a time. Each version is captured by
// internal/backup's Capturer, as a periodic backup captures it.
package capture
