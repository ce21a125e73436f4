package backupjob

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cofferbackup/coffer/internal/backup"
	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/jobqueue"
	"github.com/cofferbackup/coffer/internal/jobreport"
	"github.com/cofferbackup/coffer/internal/jobs"
	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// run runs a claimed (RUNNING) job into vv, whose lease the caller
// holds, and records how it ended. A job interrupted because coffer is
// stopping goes back to the queue (the returned snooze) and runs again
// from the start after the restart.
func (b *Backups) run(ctx context.Context, j *jobstore.BackupJob, vv *vault.Vault) error {
	bg := context.WithoutCancel(ctx)
	res, err := b.execute(ctx, j, vv)
	cause := context.Cause(ctx)
	if err != nil && errors.Is(cause, jobs.ErrShutdown) && b.requeueInterrupted(bg, *j) {
		return jobqueue.Snooze(jobs.ShutdownRetry)
	}
	e := ending{vv: vv}
	switch {
	case err != nil && (errors.Is(cause, jobs.ErrFenced) || jobs.Unreachable(err)):
		// Left RUNNING: the takeover runs it again once the database is
		// back (see fence).
		b.cfg.Log.Warn("backup job stopped: the catalog database is unreachable; it runs again once it is back", "job", j.ID, "err", b.cfg.Hasher.Redact(err))
		return nil
	case err == nil:
		// Committed and registered: the job completed, even if a stop
		// request arrived meanwhile.
		e.state, e.msg, e.res = jobs.StateCompleted, backupMessage(res), &res
		if res.Manifest.Status == recpoint.StatusPartial {
			e.state = jobs.StatePartial
		}
	case errors.Is(cause, jobs.ErrCompletionWindow) || jobqueue.IsCancelled(ctx) && jobs.WindowPassed(j.CompleteBy, b.cfg.Clock.Now()):
		e.state, e.msg = jobs.StateExpired, fmt.Sprintf("stopped: not completed by the end of its completion window (%s); no recovery point was created",
			j.CompleteBy.Format(time.RFC3339))
	case errors.Is(cause, jobs.ErrStopped) || jobqueue.IsCancelled(ctx):
		e.state, e.msg = jobs.StateAborted, "stopped by StopBackupJob; no recovery point was created"
	case errors.Is(cause, jobs.ErrShutdown):
		e.state, e.msg = jobs.StateAborted, "stopped by StopBackupJob while coffer was stopping; no recovery point was created"
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		e.state, e.msg = jobs.StateFailed, "the job ran longer than coffer's job timeout; no recovery point was created"
	default:
		// The error may name an object (an s3source error): the catalog
		// gets it with keyed hashes for keys, the report in full.
		e.state, e.msg, e.detail = jobs.StateFailed, b.cfg.Hasher.Redact(err), err.Error()
	}
	b.finish(bg, j, e)
	return nil
}

// ending is how a run ended: msg (no object key in it) for the catalog
// and the log, the rest for the job report.
type ending struct {
	state, msg string
	detail     string // the error in full, if the run failed on one
	res        *backup.Result
	vv         *vault.Vault
}

// requeueInterrupted puts a job that coffer's stop interrupted back to
// CREATED, unless a stop request made it ABORTING meanwhile. Nothing of
// the interrupted run remains: the vault aborted its write session.
func (b *Backups) requeueInterrupted(ctx context.Context, j jobstore.BackupJob) bool {
	j.State, j.StartedAt, j.PercentDone, j.BytesTransferred, j.BackupSize, j.Stats = jobs.StateCreated, time.Time{}, "0.0", 0, 0, "{}"
	j.StatusMessage = "coffer stopped while the job was running; it runs again from the start when coffer is back"
	ok, err := b.cfg.Jobs.TransitionOwnBackupJob(ctx, j, jobs.StateRunning)
	if err != nil {
		b.cfg.Log.Error("requeue interrupted job", "job", j.ID, "err", err)
	}
	if ok {
		b.cfg.Log.Warn("backup job interrupted by shutdown; queued again", "job", j.ID)
	}
	return ok
}

func (b *Backups) execute(ctx context.Context, j *jobstore.BackupJob, vv *vault.Vault) (backup.Result, error) {
	if b.cfg.Running != nil {
		b.cfg.Running(ctx, j.ID)
	}
	if b.cfg.Retention != nil {
		// Checked when the job runs, as AWS does: the lock may have come
		// after the job was created.
		if err := b.cfg.Retention(ctx, j.VaultName, j.DeleteAfterDays); err != nil {
			return backup.Result{}, err
		}
	}
	conn, bucket, err := vocab.ParseS3ARN(j.ResourceARN)
	if err != nil {
		return backup.Result{}, err
	}
	src, err := b.cfg.Source(ctx, conn)
	if err != nil {
		return backup.Result{}, err
	}
	prev, err := b.previousRecoveryPoint(ctx, vv, j)
	if err != nil {
		return backup.Result{}, err
	}
	rpID := recoveryPointID(*j)
	opts := backup.Options{
		JobID: j.ID, VaultName: j.VaultName, RecoveryPointID: rpID, RecoveryPointARN: j.RecoveryPointARN,
		ResourceARN: j.ResourceARN, Bucket: bucket, Connection: conn,
		BackupACLs: j.BackupOptions[OptBackupACLs] != "disabled", BackupTags: j.BackupOptions[OptBackupObjectTags] != "disabled",
		ReadTagsEvery: vocab.ReadTagsEvery(j.BackupOptions), FixedChunks: vocab.FixedChunks(j.BackupOptions),
		Parallelism: b.cfg.Parallelism, DeleteAfterDays: j.DeleteAfterDays, Tags: j.RecoveryPointTags,
		Previous: prev, Clock: b.cfg.Clock,
	}
	var estimate int64
	if prev != nil {
		estimate = prev.TotalBytes
	}
	res, err := backup.Run(ctx, src, vv, opts, func(st backup.Stats) { b.progress(j, st, estimate) })
	if err != nil {
		return res, fmt.Errorf("back up %s: %w", j.ResourceARN, jobs.Engine(err))
	}
	if b.cfg.Committed != nil {
		b.cfg.Committed(ctx, j.ID)
	}
	if err := b.cfg.Core.UntilCatalog(context.WithoutCancel(ctx), "record recovery point "+j.RecoveryPointARN, func() error {
		return b.cfg.Vaults.RegisterRecoveryPoint(context.WithoutCancel(ctx), res.Manifest)
	}); err != nil {
		return res, fmt.Errorf("recovery point %s is in the vault but could not be recorded in the catalog (coffer records it at its next start): %w", j.RecoveryPointARN, err)
	}
	return res, nil
}

// previousRecoveryPoint finds the newest recovery point of the same resource
// in the vault, the base of an incremental backup.
func (b *Backups) previousRecoveryPoint(ctx context.Context, vv *vault.Vault, j *jobstore.BackupJob) (*recpoint.Manifest, error) {
	rps, _, err := b.cfg.DB.ListRecoveryPoints(ctx, catalog.RecoveryPointFilter{VaultName: j.VaultName, ResourceARN: j.ResourceARN}, catalog.Page{Max: 1})
	if err != nil || len(rps) == 0 {
		return nil, err
	}
	m, err := vv.RecoveryPoint(ctx, rps[0].ID)
	if err != nil {
		b.cfg.Log.Warn("previous recovery point unreadable; taking a full backup", "rp", rps[0].ARN, "err", err)
		return nil, nil
	}
	return &m, nil
}

func (b *Backups) progress(j *jobstore.BackupJob, st backup.Stats, estimate int64) {
	j.BytesTransferred = st.BytesTransferred
	j.BackupSize = st.BytesScanned
	j.PercentDone = jobs.Percent(st.BytesScanned, estimate)
	j.Stats = jobs.JSON(st)
	if err := b.cfg.Jobs.UpdateBackupJobProgress(context.Background(), *j); err != nil {
		b.cfg.Log.Warn("record job progress", "job", j.ID, "err", err)
	}
}

// finish writes the job's report to its vault, then its end to the
// catalog: once the catalog says the job ended, its report is there.
func (b *Backups) finish(ctx context.Context, j *jobstore.BackupJob, e ending) {
	j.State, j.StatusMessage, j.CompletedAt = e.state, jobs.RunNote(j.Run)+e.msg, b.cfg.Clock.Now()
	if e.res != nil {
		j.PercentDone = "100.0"
		j.BytesTransferred = e.res.Stats.BytesTransferred
		j.BackupSize = e.res.Manifest.TotalBytes
		j.Stats = jobs.JSON(e.res.Stats)
	}
	if err := e.vv.PutJobReport(ctx, report(*j, e)); err != nil {
		b.cfg.Log.Error("write backup job report", "job", j.ID, "err", err)
		j.StatusMessage += "; the job report could not be written to the vault"
	}
	var ok bool
	err := b.cfg.Core.UntilCatalog(ctx, "record the end of backup job "+j.ID, func() (err error) {
		ok, err = b.cfg.Jobs.TransitionOwnBackupJob(ctx, *j, jobs.StateRunning, jobs.StateAborting)
		return err
	})
	if err != nil {
		b.cfg.Log.Error("record job end", "job", j.ID, "err", err)
		return
	}
	if !ok {
		b.cfg.Log.Error("backup job ended but its state changed meanwhile", "job", j.ID, "state", e.state)
		return
	}
	b.cfg.Log.Info("backup job ended", "job", j.ID, "state", e.state, "message", e.msg)
	b.ended(ctx, *j)
}

// ended runs the Ended hook for a job that ended with a recovery point.
func (b *Backups) ended(ctx context.Context, j jobstore.BackupJob) {
	if b.cfg.Ended != nil && (j.State == jobs.StateCompleted || j.State == jobs.StatePartial) {
		b.cfg.Ended(ctx, j)
	}
}

// report is the job report of a backup that ended as e says.
func report(j jobstore.BackupJob, e ending) jobreport.Report {
	rep := jobreport.Report{JobID: j.ID, Kind: jobreport.KindBackup, State: j.State, CompletedAt: j.CompletedAt}
	if e.detail != "" {
		rep.Notes = append(rep.Notes, e.detail)
	}
	if res := e.res; res != nil {
		rep.Failures, rep.FailedCount = res.Failures, res.Stats.ObjectsFailed
		if res.Note != "" {
			rep.Notes = append(rep.Notes, res.Note)
		}
		rep.Details = res.Details
	}
	return rep
}

func backupMessage(res backup.Result) string {
	st := res.Stats
	msg := fmt.Sprintf("scanned %d versions (%d bytes), transferred %d (%d bytes), deduplicated %d (%d bytes), %d delete markers",
		st.ObjectsScanned, st.BytesScanned, st.ObjectsTransferred, st.BytesTransferred,
		st.ObjectsDeduplicated, st.BytesDeduplicated, st.DeleteMarkers)
	if st.ObjectsFailed > 0 {
		// A count: the job report lists the versions (keys stay in the vault).
		msg += fmt.Sprintf("; %d versions failed; the job report lists them", st.ObjectsFailed)
	}
	if res.Note != "" {
		msg += "; " + res.Note
	}
	return msg
}

// recoveryPointID is the id of job j's recovery point (its ARN's last
// field), the name it has in the vault.
func recoveryPointID(j jobstore.BackupJob) string {
	return j.RecoveryPointARN[strings.LastIndex(j.RecoveryPointARN, ":")+1:]
}
