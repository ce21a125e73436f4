package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cofferbackup/coffer/internal/backup"
	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/jobqueue"
	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// Job states (vocab owns them and their transition table).
const (
	StateCreated   = string(vocab.StateCreated)
	StatePending   = string(vocab.StatePending)
	StateRunning   = string(vocab.StateRunning)
	StateAborting  = string(vocab.StateAborting)
	StateAborted   = string(vocab.StateAborted)
	StateCompleted = string(vocab.StateCompleted)
	StateFailed    = string(vocab.StateFailed)
	StateExpired   = string(vocab.StateExpired)
	StatePartial   = string(vocab.StatePartial)
)

var activeBackupStates = []string{StateCreated, StatePending, StateRunning, StateAborting}

// Backup options coffer understands (BackupOptions of StartBackupJob, the
// AdvancedBackupSettings of plan rules).
const (
	OptBackupACLs       = "BackupACLs"
	OptBackupObjectTags = "BackupObjectTags"
)

// StartBackupInput is StartBackupJob's input.
type StartBackupInput struct {
	VaultName             string
	ResourceARN           string
	IAMRoleARN            string
	IdempotencyToken      string
	StartWindowMinutes    int64
	CompleteWindowMinutes int64
	DeleteAfterDays       int64
	RecoveryPointTags     map[string]string
	BackupOptions         map[string]string
	// ScheduledAt starts the start window (default now); PlanID,
	// PlanVersion and RuleID name the plan rule of a scheduled job.
	ScheduledAt                 time.Time
	PlanID, PlanVersion, RuleID string
}

// StartBackupJob validates the request, records a job and queues it.
func (s *Service) StartBackupJob(ctx context.Context, in StartBackupInput) (catalog.BackupJob, error) {
	if in.VaultName == "" {
		return catalog.BackupJob{}, fmt.Errorf("%w: BackupVaultName is required", ErrMissingParameter)
	}
	if in.ResourceARN == "" {
		return catalog.BackupJob{}, fmt.Errorf("%w: ResourceArn is required", ErrMissingParameter)
	}
	if in.IdempotencyToken != "" {
		if prev, err := s.backupJobByToken(ctx, in); !errors.Is(err, ErrNotFound) {
			return prev, err
		}
	}
	v, err := s.Vault(ctx, in.VaultName)
	if err != nil {
		return catalog.BackupJob{}, err
	}
	bucket, err := parseS3ARN(in.ResourceARN)
	if err != nil {
		return catalog.BackupJob{}, err
	}
	if _, err := s.source(DefaultConnection); err != nil {
		return catalog.BackupJob{}, err
	}
	if err := validateBackupOptions(in.BackupOptions); err != nil {
		return catalog.BackupJob{}, err
	}
	if err := vocab.ValidateJobDurations(in.DeleteAfterDays, in.StartWindowMinutes, in.CompleteWindowMinutes); err != nil {
		return catalog.BackupJob{}, err
	}
	now := s.clock.Now()
	windowStart := now
	if !in.ScheduledAt.IsZero() {
		windowStart = in.ScheduledAt
	}
	window := in.StartWindowMinutes
	if window == 0 {
		window = vocab.DefaultStartWindowMinutes
	}
	rpID := fmt.Sprintf("%s-%s-%s", bucket, now.Format("20060102150405"), strings.ToLower(newID()[:8]))
	job := catalog.BackupJob{
		ID: newID(), VaultName: v.Name, VaultARN: v.ARN, ResourceARN: in.ResourceARN, ResourceType: "S3",
		State: StateCreated, RecoveryPointARN: s.recoveryPointARN(rpID), IdempotencyToken: in.IdempotencyToken,
		IAMRoleARN: in.IAMRoleARN, BackupOptions: in.BackupOptions, DeleteAfterDays: in.DeleteAfterDays,
		RecoveryPointTags: in.RecoveryPointTags, CreatedAt: now, StartBy: vocab.AddMinutes(windowStart, window),
		PercentDone: "0.0", PlanID: in.PlanID, PlanVersion: in.PlanVersion, RuleID: in.RuleID,
	}
	if in.CompleteWindowMinutes > 0 {
		// AWS counts the completion window from the scheduled time.
		job.CompleteBy = vocab.AddMinutes(windowStart, in.CompleteWindowMinutes)
	}
	err = s.db.InsertBackupJob(ctx, job, s.enqueue(ctx, kindBackup, job.ID))
	if errors.Is(err, catalog.ErrExists) {
		return s.backupJobByToken(ctx, in) // a concurrent request with the same token won
	}
	if err != nil {
		return catalog.BackupJob{}, err
	}
	s.log.Info("backup job created", "job", job.ID, "vault", v.Name, "resource", in.ResourceARN)
	return job, nil
}

// backupJobByToken returns the job an earlier request with the same
// IdempotencyToken created: ErrNotFound if none, ErrInvalidParameter if it
// was for another resource or vault.
func (s *Service) backupJobByToken(ctx context.Context, in StartBackupInput) (catalog.BackupJob, error) {
	prev, _, err := s.db.ListBackupJobs(ctx, catalog.BackupJobFilter{IdempotencyToken: in.IdempotencyToken}, catalog.Page{Max: 1})
	switch {
	case err != nil:
		return catalog.BackupJob{}, err
	case len(prev) == 0:
		return catalog.BackupJob{}, fmt.Errorf("backup job with token %q: %w", in.IdempotencyToken, ErrNotFound)
	case prev[0].ResourceARN != in.ResourceARN || prev[0].VaultName != in.VaultName:
		return catalog.BackupJob{}, fmt.Errorf("%w: IdempotencyToken %q was already used for another request", ErrInvalidParameter, in.IdempotencyToken)
	}
	return prev[0], nil
}

func validateBackupOptions(opts map[string]string) error {
	for k, val := range opts {
		switch k {
		case OptBackupACLs, OptBackupObjectTags:
			if val != "enabled" && val != "disabled" {
				return fmt.Errorf("%w: BackupOptions %s must be \"enabled\" or \"disabled\", not %q", ErrInvalidParameter, k, val)
			}
		default:
			return fmt.Errorf("%w: unknown BackupOptions key %q for S3 (known: BackupACLs, BackupObjectTags)", ErrInvalidParameter, k)
		}
	}
	return nil
}

// BackupJob describes one job.
func (s *Service) BackupJob(ctx context.Context, id string) (catalog.BackupJob, error) {
	j, err := s.db.BackupJob(ctx, id)
	if errors.Is(err, catalog.ErrNotFound) {
		return j, fmt.Errorf("backup job %q: %w", id, ErrNotFound)
	}
	return j, err
}

// ListBackupJobs lists jobs newest first.
func (s *Service) ListBackupJobs(ctx context.Context, f catalog.BackupJobFilter, p catalog.Page) ([]catalog.BackupJob, string, error) {
	return wrapPage(s.db.ListBackupJobs(ctx, f, p))
}

// StopBackupJob aborts a job that has not finished. A queued job ends
// ABORTED at once; a running one becomes ABORTING, is cancelled wherever it
// runs, and ends ABORTED with no recovery point (or COMPLETED if its
// recovery point was already committed).
func (s *Service) StopBackupJob(ctx context.Context, id string) error {
	// Each step is a conditional transition; if the job moved on between
	// the read and the write, read it again.
	for range 5 {
		j, err := s.BackupJob(ctx, id)
		if err != nil {
			return err
		}
		switch j.State {
		case StateCreated, StatePending:
			if s.endQueuedBackup(ctx, j, StateAborted, "stopped by StopBackupJob before it started") {
				s.cancelQueued(ctx, kindBackup, id)
				return nil
			}
		case StateRunning:
			j.State = StateAborting
			ok, err := s.db.TransitionBackupJob(ctx, j, StateRunning)
			if err != nil {
				return err
			}
			if ok {
				if !s.cancelLocal(id, errStopped) {
					s.cancelQueued(ctx, kindBackup, id)
				}
				return nil
			}
		case StateAborting:
			return nil
		default:
			return fmt.Errorf("%w: backup job %s is %s and cannot be stopped", ErrInvalidRequest, id, j.State)
		}
	}
	return fmt.Errorf("%w: backup job %s kept changing state; try again", ErrInvalidRequest, id)
}

// runBackup runs a claimed (RUNNING) job into vv, whose lease the caller
// holds, and records how it ended. A job interrupted because coffer is
// stopping goes back to the queue (the returned snooze) and runs again
// from the start after the restart.
func (s *Service) runBackup(ctx context.Context, j *catalog.BackupJob, vv *vault.Vault) error {
	bg := context.WithoutCancel(ctx)
	res, err := s.executeBackup(ctx, j, vv)
	cause := context.Cause(ctx)
	if err != nil && errors.Is(cause, errShutdown) && s.requeueInterrupted(bg, *j) {
		return jobqueue.Snooze(shutdownRetry)
	}
	switch {
	case err != nil && (errors.Is(cause, errFenced) || unreachable(err)):
		// Left RUNNING: the takeover runs it again once the database is
		// back (see fence).
		s.log.Warn("backup job stopped: the catalog database is unreachable; it runs again once it is back", "job", j.ID, "err", err)
	case err == nil:
		// Committed and registered: the job completed, even if a stop
		// request arrived meanwhile.
		state := StateCompleted
		if res.Manifest.Status == recpoint.StatusPartial {
			state = StatePartial
		}
		s.finishBackup(bg, j, state, backupMessage(res), &res)
	case errors.Is(cause, errCompletionWindow) || jobqueue.IsCancelled(ctx) && windowPassed(j.CompleteBy, s.clock.Now()):
		s.finishBackup(bg, j, StateExpired, fmt.Sprintf("stopped: not completed by the end of its completion window (%s); no recovery point was created",
			j.CompleteBy.Format(time.RFC3339)), nil)
	case errors.Is(cause, errStopped) || jobqueue.IsCancelled(ctx):
		s.finishBackup(bg, j, StateAborted, "stopped by StopBackupJob; no recovery point was created", nil)
	case errors.Is(cause, errShutdown):
		s.finishBackup(bg, j, StateAborted, "stopped by StopBackupJob while coffer was stopping; no recovery point was created", nil)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		s.finishBackup(bg, j, StateFailed, "the job ran longer than coffer's job timeout; no recovery point was created", nil)
	default:
		s.finishBackup(bg, j, StateFailed, err.Error(), nil)
	}
	return nil
}

// requeueInterrupted puts a job that coffer's stop interrupted back to
// CREATED, unless a stop request made it ABORTING meanwhile. Nothing of
// the interrupted run remains: the vault aborted its write session.
func (s *Service) requeueInterrupted(ctx context.Context, j catalog.BackupJob) bool {
	j.State, j.StartedAt, j.PercentDone, j.BytesTransferred, j.BackupSize, j.Stats = StateCreated, time.Time{}, "0.0", 0, 0, "{}"
	j.StatusMessage = "coffer stopped while the job was running; it runs again from the start when coffer is back"
	ok, err := s.db.TransitionOwnBackupJob(ctx, j, StateRunning)
	if err != nil {
		s.log.Error("requeue interrupted job", "job", j.ID, "err", err)
	}
	if ok {
		s.log.Warn("backup job interrupted by shutdown; queued again", "job", j.ID)
	}
	return ok
}

func (s *Service) executeBackup(ctx context.Context, j *catalog.BackupJob, vv *vault.Vault) (backup.Result, error) {
	src, err := s.source(DefaultConnection)
	if err != nil {
		return backup.Result{}, err
	}
	bucket, err := parseS3ARN(j.ResourceARN)
	if err != nil {
		return backup.Result{}, err
	}
	prev, err := s.previousRecoveryPoint(ctx, vv, j)
	if err != nil {
		return backup.Result{}, err
	}
	rpID := j.RecoveryPointARN[strings.LastIndex(j.RecoveryPointARN, ":")+1:]
	opts := backup.Options{
		JobID: j.ID, VaultName: j.VaultName, RecoveryPointID: rpID, RecoveryPointARN: j.RecoveryPointARN,
		ResourceARN: j.ResourceARN, Bucket: bucket, Connection: DefaultConnection,
		BackupACLs: j.BackupOptions[OptBackupACLs] != "disabled", BackupTags: j.BackupOptions[OptBackupObjectTags] != "disabled",
		Parallelism: s.cfg.Parallelism, DeleteAfterDays: j.DeleteAfterDays, Tags: j.RecoveryPointTags,
		Previous: prev, Clock: s.clock,
	}
	var estimate int64
	if prev != nil {
		estimate = prev.TotalBytes
	}
	res, err := backup.Run(ctx, src, vv, opts, func(st backup.Stats) { s.backupProgress(j, st, estimate) })
	if err != nil {
		return res, fmt.Errorf("back up %s: %w", j.ResourceARN, err)
	}
	if err := s.untilCatalog(context.WithoutCancel(ctx), "record recovery point "+j.RecoveryPointARN, func() error {
		return s.registerRecoveryPoint(context.WithoutCancel(ctx), res.Manifest)
	}); err != nil {
		return res, fmt.Errorf("recovery point %s is in the vault but could not be recorded in the catalog (coffer records it at its next start): %w", j.RecoveryPointARN, err)
	}
	return res, nil
}

// previousRecoveryPoint finds the newest recovery point of the same resource
// in the vault, the base of an incremental backup.
func (s *Service) previousRecoveryPoint(ctx context.Context, vv *vault.Vault, j *catalog.BackupJob) (*recpoint.Manifest, error) {
	rps, _, err := s.db.ListRecoveryPoints(ctx, catalog.RecoveryPointFilter{VaultName: j.VaultName, ResourceARN: j.ResourceARN}, catalog.Page{Max: 1})
	if err != nil || len(rps) == 0 {
		return nil, err
	}
	m, err := vv.RecoveryPoint(ctx, rps[0].ID)
	if err != nil {
		s.log.Warn("previous recovery point unreadable; taking a full backup", "rp", rps[0].ARN, "err", err)
		return nil, nil
	}
	return &m, nil
}

func (s *Service) backupProgress(j *catalog.BackupJob, st backup.Stats, estimate int64) {
	j.BytesTransferred = st.BytesTransferred
	j.BackupSize = st.BytesScanned
	j.PercentDone = percent(st.BytesScanned, estimate)
	j.Stats = mustJSON(st)
	if err := s.db.UpdateBackupJobProgress(context.Background(), *j); err != nil {
		s.log.Warn("record job progress", "job", j.ID, "err", err)
	}
}

func (s *Service) finishBackup(ctx context.Context, j *catalog.BackupJob, state, msg string, res *backup.Result) {
	j.State, j.StatusMessage, j.CompletedAt = state, runNote(j.Run)+msg, s.clock.Now()
	if res != nil {
		j.PercentDone = "100.0"
		j.BytesTransferred = res.Stats.BytesTransferred
		j.BackupSize = res.Manifest.TotalBytes
		j.Stats = mustJSON(res.Stats)
	}
	var ok bool
	err := s.untilCatalog(ctx, "record the end of backup job "+j.ID, func() (err error) {
		ok, err = s.db.TransitionOwnBackupJob(ctx, *j, StateRunning, StateAborting)
		return err
	})
	if err != nil {
		s.log.Error("record job end", "job", j.ID, "err", err)
		return
	}
	if !ok {
		s.log.Error("backup job ended but its state changed meanwhile", "job", j.ID, "state", state)
		return
	}
	s.log.Info("backup job ended", "job", j.ID, "state", state, "message", msg)
}

func backupMessage(res backup.Result) string {
	st := res.Stats
	msg := fmt.Sprintf("scanned %d versions (%d bytes), transferred %d (%d bytes), deduplicated %d (%d bytes), %d delete markers",
		st.ObjectsScanned, st.BytesScanned, st.ObjectsTransferred, st.BytesTransferred,
		st.ObjectsDeduplicated, st.BytesDeduplicated, st.DeleteMarkers)
	if st.ObjectsFailed > 0 {
		msg += fmt.Sprintf("; %d versions failed: %s", st.ObjectsFailed, res.Manifest.StatusMessage)
	}
	if res.Note != "" {
		msg += "; " + res.Note
	}
	return msg
}

func percent(done, total int64) string {
	if total <= 0 {
		return "0.0"
	}
	p := float64(done) * 100 / float64(total)
	if p > 99 {
		p = 99
	}
	return fmt.Sprintf("%.1f", p)
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// windowPassed reports whether a completion window ending at end (zero:
// none) has passed at now.
func windowPassed(end, now time.Time) bool { return !end.IsZero() && !now.Before(end) }

// runNote starts the final message of a job that a live process took over
// after the process running it died.
func runNote(run int) string {
	if run == 0 {
		return ""
	}
	return fmt.Sprintf("run %d, taken over after the process running the job stopped: ", run+1)
}
