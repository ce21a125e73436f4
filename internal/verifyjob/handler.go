package verifyjob

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/jobqueue"
	"github.com/cofferbackup/coffer/internal/jobs"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vaultverify"
)

// handle is River's handler for verification jobs. It is idempotent: a
// job no longer CREATED, or taken over (its run changed), is left alone.
// A verification whose vault maintenance or deletion holds stays CREATED,
// saying so, and is snoozed; one whose vault cannot be opened ends FAILED.
func (v *Verifications) handle(ctx context.Context, id string, run int) error {
	j, found, answer := jobs.Pick(ctx, v.cfg.Core, kind, id, v.cfg.Jobs.VerificationJob)
	if !found {
		return answer
	}
	if j.State != jobs.StateCreated || j.Run != run {
		return nil
	}
	jctx, done := v.cfg.Core.Context(ctx, id)
	defer done()
	bg := context.WithoutCancel(ctx)
	lease, waitFor, err := v.cfg.Vaults.JobLease(jctx, j.VaultName)
	switch {
	case waitFor != "":
		v.waiting(bg, j, waitFor)
		return jobqueue.Snooze(jobs.BusyRetry)
	case err != nil && jctx.Err() != nil:
		return jobs.QueuedInterrupted(jctx)
	case err != nil:
		j.State, j.StatusMessage, j.CompletedAt = jobs.StateFailed, "the vault could not be opened: "+err.Error(), v.cfg.Clock.Now()
		if _, err := v.cfg.Jobs.TransitionVerificationJobTx(bg, j, nil, jobs.StateCreated); err != nil {
			v.cfg.Log.Error("record verification end", "job", id, "err", err)
		}
		return nil
	}
	defer lease.Release()
	claimed := j
	claimed.State, claimed.StatusMessage, claimed.StartedAt, claimed.Owner = jobs.StateRunning, "", v.cfg.Clock.Now(), v.cfg.Core.ProcID()
	ok, err := v.cfg.Jobs.ClaimVerificationJob(bg, claimed)
	if err != nil {
		v.cfg.Log.Error("start verification job", "job", id, "err", err)
		return jobqueue.Snooze(jobs.CatalogRetry)
	}
	if !ok {
		// Maintenance of its vault runs in another process: wait in the
		// queue, saying so.
		if cur, err := v.cfg.Jobs.VerificationJob(bg, id); err == nil && cur.State == jobs.StateCreated && cur.Run == run {
			v.waiting(bg, cur, jobs.MaintenanceWaitNote(j.VaultName))
			return jobqueue.Snooze(jobs.BusyRetry)
		}
		return nil
	}
	return v.run(jctx, &claimed, lease.Vault())
}

// waiting records why a queued job waits, once.
func (v *Verifications) waiting(ctx context.Context, j jobstore.VerificationJob, why string) {
	if j.StatusMessage == why {
		return
	}
	j.StatusMessage = why
	if _, err := v.cfg.Jobs.TransitionVerificationJobTx(ctx, j, nil, j.State); err != nil {
		v.cfg.Log.Warn("record verification waiting", "job", j.ID, "err", err)
	}
}

// run checks vv, whose lease the caller holds, and records how it ended.
func (v *Verifications) run(ctx context.Context, j *jobstore.VerificationJob, vv *vault.Vault) error {
	bg := context.WithoutCancel(ctx)
	rep, err := vaultverify.Verify(ctx, vv, vaultverify.Options{ReadDataPercent: j.ReadDataPercent, Seed: j.Seed,
		Streams: func(ctx context.Context) ([]vaultverify.Stream, error) { return continuousStreams(ctx, vv) }})
	cause := context.Cause(ctx)
	if err != nil && errors.Is(cause, jobs.ErrShutdown) && v.requeueInterrupted(bg, *j) {
		return jobqueue.Snooze(jobs.ShutdownRetry)
	}
	switch {
	case err != nil && (errors.Is(cause, jobs.ErrFenced) || jobs.Unreachable(err)):
		v.cfg.Log.Warn("verification job stopped: the catalog database is unreachable; it runs again once it is back", "job", j.ID, "err", err)
		return nil
	case err == nil:
		if err := v.record(j, rep); err != nil {
			j.State, j.StatusMessage = jobs.StateFailed, err.Error()
			break
		}
		j.State, j.StatusMessage = jobs.StateCompleted, summary(rep)
	case errors.Is(cause, jobs.ErrShutdown):
		j.State, j.StatusMessage = jobs.StateFailed, "coffer stopped while the verification was running; start it again"
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		j.State, j.StatusMessage = jobs.StateFailed, "the verification ran longer than coffer's job timeout"
	default:
		j.State, j.StatusMessage = jobs.StateFailed, "the vault could not be checked: "+err.Error()
	}
	v.finish(bg, j, rep)
	return nil
}

// finish records the end of a run.
func (v *Verifications) finish(ctx context.Context, j *jobstore.VerificationJob, rep vaultverify.Report) {
	j.StatusMessage, j.CompletedAt = jobs.RunNote(j.Run)+j.StatusMessage, v.cfg.Clock.Now()
	var ok bool
	err := v.cfg.Core.UntilCatalog(ctx, "record the end of verification job "+j.ID, func() (err error) {
		ok, err = v.cfg.Jobs.TransitionOwnVerificationJob(ctx, *j, jobs.StateRunning)
		return err
	})
	if err != nil || !ok {
		v.cfg.Log.Error("record verification end", "job", j.ID, "recorded", ok, "err", err)
		return
	}
	log := v.cfg.Log.Info
	if j.State != jobs.StateCompleted || !rep.OK() {
		log = v.cfg.Log.Error
	}
	log("verification job ended", "job", j.ID, "vault", j.VaultName, "state", j.State, "message", j.StatusMessage,
		"problems", rep.ProblemCount, "affected_recovery_points", len(rep.AffectedRecoveryPoints))
}

// requeueInterrupted puts a verification that coffer's stop interrupted
// back to CREATED: it wrote nothing, and checks again from the start.
func (v *Verifications) requeueInterrupted(ctx context.Context, j jobstore.VerificationJob) bool {
	j.State, j.StartedAt = jobs.StateCreated, time.Time{}
	j.StatusMessage = "coffer stopped while the verification was running; it runs again from the start when coffer is back"
	ok, err := v.cfg.Jobs.TransitionOwnVerificationJob(ctx, j, jobs.StateRunning)
	if err != nil {
		v.cfg.Log.Error("requeue interrupted verification", "job", j.ID, "err", err)
	}
	return ok
}

// summary is the status message of a verification that ran: counts only.
func summary(rep vaultverify.Report) string {
	msg := fmt.Sprintf("checked %d recovery points, %d records, %d objects, %d contents in %d packs; read %d objects (%d bytes)",
		rep.RecoveryPoints, rep.Records, rep.Objects, rep.Contents, rep.Packs, rep.ObjectsRead, rep.BytesRead)
	if rep.OK() {
		return msg + "; no problem found"
	}
	return fmt.Sprintf("%s; %d problems found in %d recovery points", msg, rep.ProblemCount, len(rep.AffectedRecoveryPoints))
}
