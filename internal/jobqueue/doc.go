// Package jobqueue runs coffer's backup and restore jobs on River
// (github.com/riverqueue/river v0.43.0), so that a restart loses no queued
// job, an interrupted job is failed or re-run by policy, and several coffer
// processes can share the work on PostgreSQL.
//
// It owns only execution. AWS job states stay in coffer's catalog; a River
// job carries just the coffer job id, and the caller's Handler does the
// work and records the outcome. Handlers must be idempotent against the
// catalog: a handler called for a job that is no longer runnable (already
// finished, aborted, failed by recovery) should return nil.
//
// # Use
//
//	q, err := jobqueue.OpenSQLite(ctx, db, jobqueue.Config{Handlers: ..., Workers: maxJobs})
//	q.Start(ctx)
//	q.Enqueue(ctx, jobqueue.KindBackup, jobID)               // or EnqueueTx in the catalog's tx
//	return jobqueue.Snooze(time.Second)                      // from a Handler: run again later, no attempt used
//	q.Cancel(ctx, jobqueue.KindBackup, jobID)                // StopBackupJob
//	q.Stop(ctx)                                              // shutdown
//
// # What River v0.43.0 does, as this package relies on it
//
// Migrations. Open runs rivermigrate up: it applies the versions missing
// from river_migration (7 on both drivers), so it is idempotent. It takes
// no lock of its own; OpenPostgres holds a PostgreSQL advisory lock around
// it so processes starting together do not race. River's tables (river_job,
// river_leader, river_queue, river_migration, river_notification, and on
// PostgreSQL river_client and river_client_queue) live beside coffer's, or
// in Config.Schema on PostgreSQL.
//
// Unique jobs. Enqueue inserts with UniqueOpts{ByArgs, ByState: every
// state}: River stores a unique key of (kind, args) and skips a second
// insert while a row with that key exists in any state, so a double
// enqueue, even after the job finished or was cancelled, never runs it
// twice. River's job cleaner deletes finished rows after
// Config.Retention (default 24 h for completed and cancelled, 7 days for
// discarded); after that the id could be enqueued again.
//
// Cancellation. Cancel calls JobCancel. A queued job becomes cancelled at
// once. A running job is only marked (metadata cancel_attempted_at); the
// process running it cancels the handler's ctx with cause
// rivertype.ErrJobCancelledRemotely (see IsCancelled). On PostgreSQL the
// signal is a NOTIFY (about 25 ms here). On SQLite River v0.43.0 sends no
// signal at all (its SQLite JobCancel does not write the notification
// outbox, and the in-process shortcut is skipped because the driver has a
// listener), so Cancel writes River's own control notification to the
// outbox; the listener polls it every 50 ms (about 25 ms here). When the
// handler then returns an error the job ends cancelled, never retried; if
// it returns nil it ends completed. The rescuer also never retries a job
// marked for cancellation.
//
// Retries. A returned error (or panic) ends the attempt: with attempts left
// the job is retried after Config.RetryDelay (made available at once if the
// delay is under 5 s, else by the scheduler, which runs every 5 s), else it
// is discarded. Coffer's default is 1 attempt (MaxAttempts option per job).
//
// Dead processes. River has no liveness check: its rescuer, which runs only
// on the leader, at leadership start and then every 30 s, rescues a job
// still running once BOTH RescueStuckJobsAfter and JobTimeout have passed
// since the attempt started. A rescued job with attempts left is retried
// (the lost run counted as an attempt), else discarded with the error
// "Stuck job rescued by JobRescuer". A negative JobTimeout (no timeout) means
// the rescuer never touches the job. River requires RescueStuckJobsAfter >=
// JobTimeout, and JobTimeout also cancels a handler's ctx that runs longer,
// so the rescue delay is at least the longest job coffer allows (default 7
// days, AWS's default complete window). For prompt recovery on SQLite
// (single process) coffer's own start-up recovery should keep failing
// RUNNING jobs in the catalog, as it does today; the River row is then
// discarded or re-run later and the re-run handler sees a finished job.
//
// Leader election. Every started Queue competes through the river_leader
// row (lease 15 s, renewed every 5 s; a dead leader is replaced within
// about 20 s, a stopping one resigns at once). The leader runs River's
// maintenance (rescuer, cleaner, scheduler, periodic jobs). River exposes
// no IsLeader; Queue.IsLeader reads the leader row. For coffer's schedules a
// River periodic job (enqueued only by the leader) is the alternative.
//
// Stop. Stop stops fetching, waits StopTimeout for running handlers, then
// cancels their ctx and waits for them to return. A handler that returns
// an error because of that uses an attempt (discarded with one attempt).
// Cancelling the ctx given to Start starts the same graceful stop.
//
// SQLite. The driver (riversqlite, "early testing" upstream) works on
// modernc.org/sqlite with coffer's catalog pool of one connection
// (SetMaxOpenConns(1) is River's own advice); River needs no second
// connection, but shares the one: its listener polls the outbox every
// 50 ms and producers fetch at least every second. While a caller's
// transaction holds the connection (EnqueueTx) all River work waits, and a
// non-transactional Queue call inside that transaction deadlocks. The
// PostgreSQL driver (riverpgxv5) needs a pool of at least two connections:
// its listener holds one.
package jobqueue
