package restorejob

import (
	"context"
	"errors"
	"fmt"

	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/jobqueue"
	"github.com/cofferbackup/coffer/internal/jobreport"
	"github.com/cofferbackup/coffer/internal/jobs"
	"github.com/cofferbackup/coffer/internal/restore"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// run runs a claimed (RUNNING) restore from vv, whose lease the
// caller holds, and records how it ended: the detail in the job's report
// in vv, counts in the catalog. It returns River's snooze when coffer's
// stop interrupted the restore: it resumes after the restart.
func (r *Restores) run(ctx context.Context, j *jobstore.RestoreJob, vv *vault.Vault) error {
	bg := context.WithoutCancel(ctx)
	var items []string
	res, err := r.execute(ctx, j, vv, &items)
	if err != nil && errors.Is(context.Cause(ctx), jobs.ErrShutdown) && r.requeueInterrupted(bg, *j) {
		return jobqueue.Snooze(jobs.ShutdownRetry)
	}
	end := ending{vv: vv, items: items}
	switch {
	case err != nil && (errors.Is(context.Cause(ctx), jobs.ErrFenced) || jobs.Unreachable(err)):
		// Left RUNNING: the takeover resumes it once the database is back
		// (see fence).
		r.cfg.Log.Warn("restore job stopped: the catalog database is unreachable; it resumes once it is back", "job", j.ID, "err", r.cfg.Hasher.Redact(err, items...))
		return nil
	case err != nil && errors.Is(context.Cause(ctx), jobs.ErrShutdown):
		// Not requeued (the catalog refused): the job must not stay RUNNING.
		end.status, end.msg = jobs.StateFailed, "coffer stopped while the restore was running; objects restored so far remain; start the restore again"
	case err != nil:
		end.status, end.msg, end.detail = jobs.StateFailed, r.cfg.Hasher.Redact(err, items...), err.Error()
	case res.Stats.ObjectsFailed > 0:
		end.status, end.msg, end.res = jobs.StateFailed, endMessage(j, res), &res
	default:
		end.status, end.msg, end.res = jobs.StateCompleted, endMessage(j, res), &res
	}
	r.finish(bg, j, end)
	return nil
}

// ending is how a run ended: msg (no object key in it) for the catalog
// and the log, the rest for the job report.
type ending struct {
	status, msg string
	detail      string // the error in full, if the run failed on one
	res         *restore.Result
	items       []string
	vv          *vault.Vault
}

func (r *Restores) execute(ctx context.Context, j *jobstore.RestoreJob, vv *vault.Vault, items *[]string) (restore.Result, error) {
	if r.cfg.Running != nil {
		r.cfg.Running(ctx, j.ID)
	}
	rp, err := r.cfg.DB.RecoveryPointByARN(ctx, j.RecoveryPointARN)
	if err != nil {
		return restore.Result{}, err
	}
	bucket, _ := vocab.ParseBucketARN(rp.ResourceARN)
	opts, err := parseRestoreMetadata(j.Metadata, bucket)
	if err != nil {
		return restore.Result{}, err
	}
	if err := r.loadItems(ctx, j, vv, &opts); err != nil {
		return restore.Result{}, err
	}
	*items = opts.Items
	opts.Parallelism = r.cfg.Parallelism
	// An earlier run died (a takeover raised the run) or was interrupted
	// by coffer's stop after it began writing (it had named its
	// destination): continue what it wrote.
	opts.Resume = j.Run > 0 || j.CreatedResourceARN != ""
	conn, err := destConnection(j.Metadata, rp.ResourceARN)
	if err != nil {
		return restore.Result{}, err
	}
	dst, err := r.cfg.Source(ctx, conn)
	if err != nil {
		return restore.Result{}, err
	}
	progress := func(st restore.Stats) {
		j.BytesRestored = st.BytesRestored
		j.PercentDone = jobs.Percent(st.BytesRestored, j.BackupSize)
		j.Stats = jobs.JSON(st)
		if _, err := r.cfg.Jobs.TransitionOwnRestoreJob(context.WithoutCancel(ctx), *j, jobs.StateRunning); err != nil {
			r.cfg.Log.Warn("record restore progress", "job", j.ID, "err", err)
		}
	}
	// A continuous recovery point's RestoreTime is checked again: the
	// window may have moved since Start.
	stream, err := r.stateStream(ctx, vv, rp, j.Metadata)
	if err != nil {
		return restore.Result{}, err
	}
	j.CreatedResourceARN = vocab.BucketARN(conn, opts.DestBucket)
	res, err := restore.RunStream(ctx, dst, vv, stream, opts, progress)
	return res, jobs.Engine(err)
}

// finish writes the job's report to its vault, then its end to the
// catalog: once the catalog says the job ended, its report is there.
func (r *Restores) finish(ctx context.Context, j *jobstore.RestoreJob, e ending) {
	j.Status, j.StatusMessage, j.CompletedAt = e.status, jobs.RunNote(j.Run)+e.msg, r.cfg.Clock.Now()
	if e.res != nil {
		j.PercentDone = "100.0"
		j.BytesRestored = e.res.Stats.BytesRestored
		j.Stats = jobs.JSON(e.res.Stats)
	}
	if err := e.vv.PutJobReport(ctx, r.report(*j, e)); err != nil {
		r.cfg.Log.Error("write restore job report", "job", j.ID, "err", err)
		j.StatusMessage += "; the job report could not be written to the vault"
	}
	var ok bool
	err := r.cfg.Core.UntilCatalog(ctx, "record the end of restore job "+j.ID, func() (err error) {
		ok, err = r.cfg.Jobs.TransitionOwnRestoreJob(ctx, *j, jobs.StateRunning)
		return err
	})
	if err != nil || !ok {
		r.cfg.Log.Error("record restore end", "job", j.ID, "recorded", ok, "err", err)
		return
	}
	r.cfg.Log.Info("restore job ended", "job", j.ID, "status", e.status, "message", e.msg)
}

// report is the job report of a restore that ended as e says.
func (r *Restores) report(j jobstore.RestoreJob, e ending) jobreport.Report {
	rep := jobreport.Report{JobID: j.ID, Kind: jobreport.KindRestore, State: j.Status, CompletedAt: j.CompletedAt, Items: e.items}
	if e.detail != "" {
		rep.Notes = append(rep.Notes, e.detail)
	}
	if res := e.res; res != nil {
		rep.Skipped, rep.SkippedCount = res.Skipped, res.Stats.ObjectsSkipped
		rep.Failures, rep.FailedCount = res.Failures, res.Stats.ObjectsFailed
		if res.Note != "" {
			rep.Notes = append(rep.Notes, res.Note)
		}
		rep.Details = res.Details
	}
	return rep
}

// restoreMessage is the status message of a restore that ran: counts,
// never keys (the job report lists them).
func restoreMessage(res restore.Result) string {
	st := res.Stats
	msg := fmt.Sprintf("restored %d objects (%d versions, %d delete markers, %d bytes)",
		st.ObjectsRestored, st.VersionsRestored, st.DeleteMarkersRestored, st.BytesRestored)
	if st.ObjectsResumed > 0 {
		msg += fmt.Sprintf("; %d objects were restored by the earlier run", st.ObjectsResumed)
	}
	if st.ObjectsSkipped > 0 {
		msg += fmt.Sprintf("; skipped %d keys that already exist at the destination (Overwrite is false)", st.ObjectsSkipped)
	}
	if st.ObjectsFailed > 0 {
		msg += fmt.Sprintf("; %d objects failed", st.ObjectsFailed)
	}
	if st.ObjectsSkipped > 0 || st.ObjectsFailed > 0 {
		msg += "; the job report lists them"
	}
	if res.Note != "" {
		msg += "; " + res.Note
	}
	return msg
}

// requeueInterrupted puts a restore that coffer's stop interrupted back to
// PENDING (its River job is snoozed, so it runs after the restart and
// resumes: see execute). What the interrupted run wrote stays.
func (r *Restores) requeueInterrupted(ctx context.Context, j jobstore.RestoreJob) bool {
	j.Status = jobs.StatePending
	j.StatusMessage = "coffer stopped while the restore was running; it resumes when coffer is back"
	ok, err := r.cfg.Jobs.TransitionOwnRestoreJob(ctx, j, jobs.StateRunning)
	if err != nil {
		r.cfg.Log.Error("requeue interrupted restore", "job", j.ID, "err", err)
	}
	if ok {
		r.cfg.Log.Warn("restore job interrupted by shutdown; queued again", "job", j.ID)
	}
	return ok
}
