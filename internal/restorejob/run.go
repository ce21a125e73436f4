package restorejob

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/jobs"
	"github.com/cofferbackup/coffer/internal/restore"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// run runs a claimed (RUNNING) restore from vv, whose lease the
// caller holds, and records how it ended.
func (r *Restores) run(ctx context.Context, j *catalog.RestoreJob, vv *vault.Vault) {
	bg := context.WithoutCancel(ctx)
	res, err := r.execute(ctx, j, vv)
	switch {
	case err != nil && (errors.Is(context.Cause(ctx), jobs.ErrFenced) || jobs.Unreachable(err)):
		// Left RUNNING: the takeover resumes it once the database is back
		// (see fence).
		r.cfg.Log.Warn("restore job stopped: the catalog database is unreachable; it resumes once it is back", "job", j.ID, "err", err)
	case err != nil && errors.Is(context.Cause(ctx), jobs.ErrShutdown):
		r.finish(bg, j, jobs.StateFailed, "coffer stopped while the restore was running; objects restored so far remain; start the restore again", nil)
	case err != nil:
		r.finish(bg, j, jobs.StateFailed, err.Error(), nil)
	case res.Stats.ObjectsFailed > 0:
		r.finish(bg, j, jobs.StateFailed, restoreMessage(res), &res)
	default:
		r.finish(bg, j, jobs.StateCompleted, restoreMessage(res), &res)
	}
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
	opts.Resume = j.Run > 0 // an earlier run died: continue what it wrote
	dst, err := r.cfg.Source(DefaultConnection)
	if err != nil {
		return restore.Result{}, err
	}
	m, err := vv.RecoveryPoint(ctx, rp.ID)
	if err != nil {
		return restore.Result{}, fmt.Errorf("read recovery point %s: %w", rp.ARN, err)
	}
	j.CreatedResourceARN = "arn:aws:s3:::" + opts.DestBucket
	res, err := restore.Run(ctx, dst, vv, m, opts, func(st restore.Stats) {
		j.BytesRestored = st.BytesRestored
		j.PercentDone = jobs.Percent(st.BytesRestored, j.BackupSize)
		j.Stats = jobs.JSON(st)
		if _, err := r.cfg.DB.TransitionOwnRestoreJob(context.WithoutCancel(ctx), *j, jobs.StateRunning); err != nil {
			r.cfg.Log.Warn("record restore progress", "job", j.ID, "err", err)
		}
	})
	return res, jobs.Engine(err)
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
