// Package scheduler owns backup plans and their selections, and turns due
// plan rules into backup jobs: every scheduled time of a rule (AWS cron and
// rate expressions, package schedule) is run once, for the buckets the
// plan's selections match at that moment, or recorded as missed. It starts
// jobs through the Backups interface its owner gives it, so it knows
// nothing of how a backup runs; its passes are idempotent (idempotency
// tokens per run and bucket, recorded runs), which lets the elected leader
// run them periodically and a restart lose nothing.
package scheduler
