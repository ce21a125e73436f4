package copyjob

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/jobqueue"
	"github.com/cofferbackup/coffer/internal/jobs"
	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vaultcopy"
)

// run runs a claimed (RUNNING) copy into dst, whose lease the caller
// holds, and records how it ended. A copy interrupted because coffer is
// stopping goes back to the queue and runs again from the start.
func (c *Copies) run(ctx context.Context, j *jobstore.CopyJob, dst *vault.Vault) error {
	bg := context.WithoutCancel(ctx)
	res, err := c.execute(ctx, j, dst)
	cause := context.Cause(ctx)
	if err != nil && errors.Is(cause, jobs.ErrShutdown) && c.requeueInterrupted(bg, *j) {
		return jobqueue.Snooze(jobs.ShutdownRetry)
	}
	var state, msg string
	switch {
	case err != nil && (errors.Is(cause, jobs.ErrFenced) || jobs.Unreachable(err)):
		// Left RUNNING: the takeover runs it again once the database is back.
		c.cfg.Log.Warn("copy job stopped: the catalog database is unreachable; it runs again once it is back", "job", j.ID, "err", c.cfg.Hasher.Redact(err))
		return nil
	case err == nil:
		state, msg = jobs.StateCompleted, copyMessage(res.Stats)
		j.BackupSize, j.BytesTransferred, j.Stats = res.Manifest.TotalBytes, res.Stats.BytesRead, jobs.JSON(res.Stats)
	case errors.Is(cause, jobs.ErrShutdown):
		state, msg = jobs.StateFailed, "coffer stopped while the copy was running; no recovery point was created; start the copy again"
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		state, msg = jobs.StateFailed, "the job ran longer than coffer's job timeout; no recovery point was created"
	default:
		state, msg = jobs.StateFailed, c.cfg.Hasher.Redact(err)
	}
	c.finish(bg, j, state, msg)
	return nil
}

func (c *Copies) execute(ctx context.Context, j *jobstore.CopyJob, dst *vault.Vault) (vaultcopy.Result, error) {
	if c.cfg.Retention != nil {
		// Checked when the job runs, as for backups: the lock may have
		// come after the job was created.
		if err := c.cfg.Retention(ctx, j.DestinationVaultName, j.DeleteAfterDays); err != nil {
			return vaultcopy.Result{}, err
		}
	}
	rp, err := c.cfg.DB.RecoveryPoint(ctx, j.SourceVaultName, j.SourceRecoveryPointARN)
	if err != nil {
		return vaultcopy.Result{}, fmt.Errorf("source recovery point: %w", err)
	}
	prev := c.previous(ctx, dst, *j)
	rpID := j.DestinationRecoveryPointARN[strings.LastIndex(j.DestinationRecoveryPointARN, ":")+1:]
	var res vaultcopy.Result
	copyFrom := func(src *vault.Vault) error {
		opts := vaultcopy.Options{SourceVaultARN: j.SourceVaultARN, JobID: j.ID, VaultName: j.DestinationVaultName,
			RecoveryPointID: rpID, RecoveryPointARN: j.DestinationRecoveryPointARN, DeleteAfterDays: j.DeleteAfterDays,
			Previous: prev, Clock: c.cfg.Clock, Parallelism: c.cfg.Parallelism}
		if rp.Kind == catalog.KindContinuous {
			if err := snapshotSource(ctx, src, rp, &opts); err != nil {
				return err
			}
		} else {
			m, err := src.RecoveryPoint(ctx, rp.ID)
			if err != nil {
				return fmt.Errorf("read recovery point %s: %w", rp.ARN, err)
			}
			opts.Source = m
		}
		res, err = vaultcopy.Run(ctx, src, dst, opts, func(st vaultcopy.Stats) { c.progress(j, st) })
		return jobs.Engine(err)
	}
	if j.SourceVaultName == j.DestinationVaultName {
		err = copyFrom(dst) // its lease is held already
	} else {
		err = c.cfg.Vaults.WithVault(ctx, j.SourceVaultName, copyFrom)
	}
	if err != nil {
		return res, err
	}
	if err := c.cfg.Core.UntilCatalog(context.WithoutCancel(ctx), "record recovery point "+j.DestinationRecoveryPointARN, func() error {
		return c.cfg.Vaults.RegisterRecoveryPoint(context.WithoutCancel(ctx), res.Manifest)
	}); err != nil {
		return res, fmt.Errorf("recovery point %s is in the vault but could not be recorded in the catalog (coffer records it at its next start): %w", j.DestinationRecoveryPointARN, err)
	}
	return res, nil
}

// previous is the destination's newest recovery point of the job's
// resource, the base of an incremental copy; nil for a full one.
func (c *Copies) previous(ctx context.Context, dst *vault.Vault, j jobstore.CopyJob) *recpoint.Manifest {
	rps, _, err := c.cfg.DB.ListRecoveryPoints(ctx, catalog.RecoveryPointFilter{VaultName: j.DestinationVaultName, ResourceARN: j.ResourceARN}, catalog.Page{Max: 1})
	if err != nil || len(rps) == 0 {
		return nil
	}
	m, err := dst.RecoveryPoint(ctx, rps[0].ID)
	if err != nil {
		c.cfg.Log.Warn("previous recovery point unreadable; copying in full", "rp", rps[0].ARN, "err", err)
		return nil
	}
	return &m
}

func (c *Copies) progress(j *jobstore.CopyJob, st vaultcopy.Stats) {
	j.BytesTransferred, j.Stats = st.BytesRead, jobs.JSON(st)
	if _, err := c.cfg.Jobs.TransitionOwnCopyJob(context.Background(), *j, jobs.StateRunning); err != nil {
		c.cfg.Log.Warn("record copy progress", "job", j.ID, "err", err)
	}
}

// finish records the end of a run.
func (c *Copies) finish(ctx context.Context, j *jobstore.CopyJob, state, msg string) {
	j.State, j.StatusMessage, j.CompletedAt = state, jobs.RunNote(j.Run)+msg, c.cfg.Clock.Now()
	var ok bool
	err := c.cfg.Core.UntilCatalog(ctx, "record the end of copy job "+j.ID, func() (err error) {
		ok, err = c.cfg.Jobs.TransitionOwnCopyJob(ctx, *j, jobs.StateRunning)
		return err
	})
	if err != nil || !ok {
		c.cfg.Log.Error("record copy end", "job", j.ID, "recorded", ok, "err", err)
		return
	}
	c.cfg.Log.Info("copy job ended", "job", j.ID, "state", state, "message", msg)
}

// requeueInterrupted puts a copy that coffer's stop interrupted back to
// CREATED: nothing of the run remains (its session was aborted).
func (c *Copies) requeueInterrupted(ctx context.Context, j jobstore.CopyJob) bool {
	j.State, j.StartedAt, j.BytesTransferred, j.Stats = jobs.StateCreated, time.Time{}, 0, "{}"
	j.StatusMessage = "coffer stopped while the copy was running; it runs again from the start when coffer is back"
	ok, err := c.cfg.Jobs.TransitionOwnCopyJob(ctx, j, jobs.StateRunning)
	if err != nil {
		c.cfg.Log.Error("requeue interrupted copy", "job", j.ID, "err", err)
	}
	return ok
}

// copyMessage is the status message of a copy: counts, never keys.
func copyMessage(st vaultcopy.Stats) string {
	return fmt.Sprintf("copied %d records: %d versions read from the source vault (%d bytes), %d already in the destination vault referenced (%d bytes), %d delete markers",
		st.Records, st.ObjectsCopied, st.BytesRead, st.ObjectsReferenced, st.BytesReferenced, st.DeleteMarkers)
}
