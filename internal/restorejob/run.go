package restorejob

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/jobqueue"
	"github.com/cofferbackup/coffer/internal/jobs"
	"github.com/cofferbackup/coffer/internal/restore"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// run runs a claimed (RUNNING) restore from vv, whose lease the
// caller holds, and records how it ended. It returns River's snooze when
// coffer's stop interrupted the restore: it resumes after the restart.
func (r *Restores) run(ctx context.Context, j *catalog.RestoreJob, vv *vault.Vault) error {
	bg := context.WithoutCancel(ctx)
	res, err := r.execute(ctx, j, vv)
	if err != nil && errors.Is(context.Cause(ctx), jobs.ErrShutdown) && r.requeueInterrupted(bg, *j) {
		return jobqueue.Snooze(jobs.ShutdownRetry)
	}
	switch {
	case err != nil && (errors.Is(context.Cause(ctx), jobs.ErrFenced) || jobs.Unreachable(err)):
		// Left RUNNING: the takeover resumes it once the database is back
		// (see fence).
		r.cfg.Log.Warn("restore job stopped: the catalog database is unreachable; it resumes once it is back", "job", j.ID, "err", err)
	case err != nil && errors.Is(context.Cause(ctx), jobs.ErrShutdown):
		// Not requeued (the catalog refused): the job must not stay RUNNING.
		r.finish(bg, j, jobs.StateFailed, "coffer stopped while the restore was running; objects restored so far remain; start the restore again", nil)
	case err != nil:
		r.finish(bg, j, jobs.StateFailed, err.Error(), nil)
	case res.Stats.ObjectsFailed > 0:
		r.finish(bg, j, jobs.StateFailed, restoreMessage(res), &res)
	default:
		r.finish(bg, j, jobs.StateCompleted, restoreMessage(res), &res)
	}
	return nil
}

func (r *Restores) execute(ctx context.Context, j *catalog.RestoreJob, vv *vault.Vault) (restore.Result, error) {
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
	opts.Parallelism = r.cfg.Parallelism
	// An earlier run died (a takeover raised the run) or was interrupted
	// by coffer's stop after it began writing (it had named its
	// destination): continue what it wrote.
	opts.Resume = j.Run > 0 || j.CreatedResourceARN != ""
	dst, err := r.cfg.Source(DefaultConnection)
	if err != nil {
		return restore.Result{}, err
	}
	m, err := vv.RecoveryPoint(ctx, rp.ID)
	if err != nil {
		return restore.Result{}, fmt.Errorf("read recovery point %s: %w", rp.ARN, err)
	}
	j.CreatedResourceARN = "arn:aws:s3:::" + opts.DestBucket
	return restore.Run(ctx, dst, vv, m, opts, func(st restore.Stats) {
		j.BytesRestored = st.BytesRestored
		j.PercentDone = jobs.Percent(st.BytesRestored, j.BackupSize)
		j.Stats = jobs.JSON(st)
		if _, err := r.cfg.DB.TransitionOwnRestoreJob(context.WithoutCancel(ctx), *j, jobs.StateRunning); err != nil {
			r.cfg.Log.Warn("record restore progress", "job", j.ID, "err", err)
		}
	})
}

// requeueInterrupted puts a restore that coffer's stop interrupted back to
// PENDING (its River job is snoozed, so it runs after the restart and
// resumes: see execute). What the interrupted run wrote stays.
func (r *Restores) requeueInterrupted(ctx context.Context, j catalog.RestoreJob) bool {
	j.Status = jobs.StatePending
	j.StatusMessage = "coffer stopped while the restore was running; it resumes when coffer is back"
	ok, err := r.cfg.DB.TransitionOwnRestoreJob(ctx, j, jobs.StateRunning)
	if err != nil {
		r.cfg.Log.Error("requeue interrupted restore", "job", j.ID, "err", err)
	}
	if ok {
		r.cfg.Log.Warn("restore job interrupted by shutdown; queued again", "job", j.ID)
	}
	return ok
}

func (r *Restores) finish(ctx context.Context, j *catalog.RestoreJob, status, msg string, res *restore.Result) {
	j.Status, j.StatusMessage, j.CompletedAt = status, jobs.RunNote(j.Run)+msg, r.cfg.Clock.Now()
	if res != nil {
		j.PercentDone = "100.0"
		j.BytesRestored = res.Stats.BytesRestored
		j.Stats = jobs.JSON(res.Stats)
	}
	var ok bool
	err := r.cfg.Core.UntilCatalog(ctx, "record the end of restore job "+j.ID, func() (err error) {
		ok, err = r.cfg.DB.TransitionOwnRestoreJob(ctx, *j, jobs.StateRunning)
		return err
	})
	if err != nil || !ok {
		r.cfg.Log.Error("record restore end", "job", j.ID, "recorded", ok, "err", err)
		return
	}
	r.cfg.Log.Info("restore job ended", "job", j.ID, "status", status, "message", msg)
}

func restoreMessage(res restore.Result) string {
	st := res.Stats
	msg := fmt.Sprintf("restored %d objects (%d versions, %d delete markers, %d bytes)",
		st.ObjectsRestored, st.VersionsRestored, st.DeleteMarkersRestored, st.BytesRestored)
	if st.ObjectsResumed > 0 {
		msg += fmt.Sprintf("; %d objects were restored by the earlier run", st.ObjectsResumed)
	}
	if st.ObjectsSkipped > 0 {
		msg += fmt.Sprintf("; skipped %d keys that already exist at the destination (Overwrite is false): %s",
			st.ObjectsSkipped, sample(res.Skipped, 10))
	}
	if st.ObjectsFailed > 0 {
		keys := make([]string, 0, len(res.Failures))
		for _, f := range res.Failures {
			keys = append(keys, f.Key+" ("+f.Reason+")")
		}
		msg += fmt.Sprintf("; %d objects failed: %s", st.ObjectsFailed, sample(keys, 10))
	}
	if res.Note != "" {
		msg += "; " + res.Note
	}
	return msg
}

func sample(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:n], ", ") + fmt.Sprintf(" and %d more", len(items)-n)
}
