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
	"github.com/cofferbackup/coffer/internal/recpoint"
)

// Backup job states, as AWS Backup names them.
const (
	StateCreated   = "CREATED"
	StatePending   = "PENDING"
	StateRunning   = "RUNNING"
	StateAborting  = "ABORTING"
	StateAborted   = "ABORTED"
	StateCompleted = "COMPLETED"
	StateFailed    = "FAILED"
	StateExpired   = "EXPIRED"
	StatePartial   = "PARTIAL"
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
		prev, _, err := s.db.ListBackupJobs(ctx, catalog.BackupJobFilter{IdempotencyToken: in.IdempotencyToken}, catalog.Page{Max: 1})
		if err != nil {
			return catalog.BackupJob{}, err
		}
		if len(prev) > 0 {
			if prev[0].ResourceARN != in.ResourceARN || prev[0].VaultName != in.VaultName {
				return catalog.BackupJob{}, fmt.Errorf("%w: IdempotencyToken %q was already used for another request", ErrInvalidParameter, in.IdempotencyToken)
			}
			return prev[0], nil
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
	if in.DeleteAfterDays < 0 {
		return catalog.BackupJob{}, fmt.Errorf("%w: Lifecycle.DeleteAfterDays must be at least 1", ErrInvalidParameter)
	}
	if in.CompleteWindowMinutes < 0 || (in.CompleteWindowMinutes != 0 && in.CompleteWindowMinutes < 60) {
		return catalog.BackupJob{}, fmt.Errorf("%w: CompleteWindowMinutes must be at least 60", ErrInvalidParameter)
	}
	if in.StartWindowMinutes != 0 && in.StartWindowMinutes < 60 {
		return catalog.BackupJob{}, fmt.Errorf("%w: StartWindowMinutes must be at least 60", ErrInvalidParameter)
	}
	now := s.clock.Now()
	windowStart := now
	if !in.ScheduledAt.IsZero() {
		windowStart = in.ScheduledAt
	}
	window := in.StartWindowMinutes
	if window == 0 {
		window = 480
	}
	rpID := fmt.Sprintf("%s-%s-%s", bucket, now.Format("20060102150405"), strings.ToLower(newID()[:8]))
	job := catalog.BackupJob{
		ID: newID(), VaultName: v.Name, VaultARN: v.ARN, ResourceARN: in.ResourceARN, ResourceType: "S3",
		State: StateCreated, RecoveryPointARN: s.recoveryPointARN(rpID), IdempotencyToken: in.IdempotencyToken,
		IAMRoleARN: in.IAMRoleARN, BackupOptions: in.BackupOptions, DeleteAfterDays: in.DeleteAfterDays,
		RecoveryPointTags: in.RecoveryPointTags, CreatedAt: now, StartBy: windowStart.Add(time.Duration(window) * time.Minute),
		PercentDone: "0.0", PlanID: in.PlanID, PlanVersion: in.PlanVersion, RuleID: in.RuleID,
	}
	if in.CompleteWindowMinutes > 0 {
		// AWS counts the completion window from the scheduled time.
		job.CompleteBy = windowStart.Add(time.Duration(in.CompleteWindowMinutes) * time.Minute)
	}
	if err := s.db.InsertBackupJob(ctx, job); err != nil {
		return catalog.BackupJob{}, err
	}
	s.log.Info("backup job created", "job", job.ID, "vault", v.Name, "resource", in.ResourceARN)
	s.launch(job.ID, s.runBackup)
	return job, nil
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

// StopBackupJob aborts a job that has not finished. A running job is
// cancelled; it registers no recovery point.
func (s *Service) StopBackupJob(ctx context.Context, id string) error {
	j, err := s.BackupJob(ctx, id)
	if err != nil {
		return err
	}
	s.mu.Lock()
	cancel, running := s.running[id]
	s.mu.Unlock()
	switch {
	case running:
		j.State = StateAborting
		if err := s.db.UpdateBackupJob(ctx, j); err != nil {
			return err
		}
		cancel(errStopped)
		return nil
	case j.State == StateCreated || j.State == StatePending:
		// Not picked up yet: the runner sees ABORTED and skips it.
		j.State, j.StatusMessage, j.CompletedAt = StateAborted, "stopped before it started", s.clock.Now()
		return s.db.UpdateBackupJob(ctx, j)
	default:
		return fmt.Errorf("%w: backup job %s is %s and cannot be stopped", ErrInvalidRequest, id, j.State)
	}
}

// launch runs fn for a job on a job slot in the background.
// Why a running job's context was cancelled.
var (
	errStopped          = errors.New("stopped by StopBackupJob")
	errCompletionWindow = errors.New("not completed within its completion window")
)

func (s *Service) launch(id string, fn func(ctx context.Context, id string)) {
	ctx, cancel := context.WithCancelCause(s.ctx)
	s.mu.Lock()
	s.running[id] = cancel
	s.mu.Unlock()
	s.jobs.Add(1)
	go func() {
		defer s.jobs.Done()
		defer func() {
			s.mu.Lock()
			delete(s.running, id)
			s.mu.Unlock()
			cancel(nil)
		}()
		select {
		case s.slots <- struct{}{}:
		case <-ctx.Done():
			fn(ctx, id) // records the cancellation
			return
		}
		defer func() { <-s.slots }()
		fn(ctx, id)
	}()
}

func (s *Service) runBackup(ctx context.Context, id string) {
	// Job bookkeeping uses a context that outlives the job's own, so a
	// cancelled job can still record how it ended.
	bg := context.WithoutCancel(ctx)
	j, err := s.db.BackupJob(bg, id)
	if err != nil {
		s.log.Error("backup job vanished", "job", id, "err", err)
		return
	}
	if j.State == StateAborting {
		s.finishBackup(bg, &j, StateAborted, "stopped by StopBackupJob before it started", nil)
		return
	}
	if j.State != StateCreated && j.State != StatePending {
		return
	}
	if s.ctx.Err() != nil {
		return // coffer is stopping: the job stays queued and runs after restart
	}
	release, err := s.lockResource(ctx, &j)
	switch {
	case errors.Is(err, errStartWindow):
		s.finishBackup(bg, &j, StateExpired, "the job did not start within its start window", nil)
		return
	case err != nil && s.ctx.Err() != nil:
		return // stays queued; runs after restart
	case err != nil:
		s.finishBackup(bg, &j, StateAborted, "stopped by StopBackupJob before it started", nil)
		return
	}
	defer release()
	j.State, j.StartedAt, j.StatusMessage = StateRunning, s.clock.Now(), ""
	if err := s.db.UpdateBackupJob(bg, j); err != nil {
		s.log.Error("update job", "job", id, "err", err)
		return
	}
	res, err := s.executeBackup(ctx, &j)
	switch {
	case err != nil && errors.Is(context.Cause(ctx), errCompletionWindow):
		s.finishBackup(bg, &j, StateExpired, fmt.Sprintf("stopped: not completed by the end of its completion window (%s); no recovery point was created",
			j.CompleteBy.Format(time.RFC3339)), nil)
	case err != nil && ctx.Err() != nil && s.ctx.Err() == nil:
		s.finishBackup(bg, &j, StateAborted, "stopped by StopBackupJob; no recovery point was created", nil)
	case err != nil && s.ctx.Err() != nil:
		s.finishBackup(bg, &j, StateFailed, "coffer stopped while the job was running; no recovery point was created", nil)
	case err != nil:
		s.finishBackup(bg, &j, StateFailed, err.Error(), nil)
	default:
		state := StateCompleted
		if res.Manifest.Status == recpoint.StatusPartial {
			state = StatePartial
		}
		s.finishBackup(bg, &j, state, backupMessage(res), &res)
	}
}

func (s *Service) executeBackup(ctx context.Context, j *catalog.BackupJob) (backup.Result, error) {
	v, err := s.db.Vault(ctx, j.VaultName)
	if err != nil {
		return backup.Result{}, err
	}
	h, err := s.openVault(ctx, v)
	if err != nil {
		return backup.Result{}, err
	}
	src, err := s.source(DefaultConnection)
	if err != nil {
		return backup.Result{}, err
	}
	bucket, err := parseS3ARN(j.ResourceARN)
	if err != nil {
		return backup.Result{}, err
	}
	h.lock.RLock()
	defer h.lock.RUnlock()
	prev, err := s.previousRecoveryPoint(ctx, h, j)
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
	res, err := backup.Run(ctx, src, h.v, opts, func(st backup.Stats) { s.backupProgress(j, st, estimate) })
	if err != nil {
		return res, fmt.Errorf("back up %s: %w", j.ResourceARN, err)
	}
	if err := s.registerRecoveryPoint(context.WithoutCancel(ctx), res.Manifest); err != nil {
		return res, err
	}
	return res, nil
}

// previousRecoveryPoint finds the newest recovery point of the same resource
// in the vault, the base of an incremental backup.
func (s *Service) previousRecoveryPoint(ctx context.Context, h *vaultHandle, j *catalog.BackupJob) (*recpoint.Manifest, error) {
	rps, _, err := s.db.ListRecoveryPoints(ctx, catalog.RecoveryPointFilter{VaultName: j.VaultName, ResourceARN: j.ResourceARN}, catalog.Page{Max: 1})
	if err != nil || len(rps) == 0 {
		return nil, err
	}
	m, err := h.v.RecoveryPoint(ctx, rps[0].ID)
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
	j.State, j.StatusMessage, j.CompletedAt = state, msg, s.clock.Now()
	if res != nil {
		j.PercentDone = "100.0"
		j.BytesTransferred = res.Stats.BytesTransferred
		j.BackupSize = res.Manifest.TotalBytes
		j.Stats = mustJSON(res.Stats)
	}
	if err := s.db.UpdateBackupJob(ctx, *j); err != nil {
		s.log.Error("record job end", "job", j.ID, "err", err)
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

// EnforceCompletionWindows stops running backup jobs whose completion
// window has ended (they end EXPIRED, with no recovery point). The janitor
// calls it every tick; it uses the injectable clock.
func (s *Service) EnforceCompletionWindows(ctx context.Context) (int, error) {
	now := s.clock.Now()
	jobs, _, err := s.db.ListBackupJobs(ctx, catalog.BackupJobFilter{States: []string{StateRunning}}, catalog.Page{Max: 1000})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, j := range jobs {
		if j.CompleteBy.IsZero() || now.Before(j.CompleteBy) {
			continue
		}
		s.mu.Lock()
		cancel, ok := s.running[j.ID]
		s.mu.Unlock()
		if ok {
			cancel(errCompletionWindow)
			n++
		}
	}
	return n, nil
}

var errStartWindow = errors.New("start window passed")

// lockResource waits until no other backup of the job's resource runs in
// this process, so a bucket is never backed up twice at once: a second
// trigger waits (PENDING) and expires if its start window ends first.
func (s *Service) lockResource(ctx context.Context, j *catalog.BackupJob) (release func(), err error) {
	s.mu.Lock()
	ch, ok := s.resources[j.ResourceARN]
	if !ok {
		ch = make(chan struct{}, 1)
		s.resources[j.ResourceARN] = ch
	}
	s.mu.Unlock()
	marked := false
	for {
		if !j.StartBy.IsZero() && s.clock.Now().After(j.StartBy) {
			return nil, errStartWindow
		}
		select {
		case ch <- struct{}{}:
			return func() { <-ch }, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if !marked {
			marked = true
			j.State, j.StatusMessage = StatePending, "waiting for another backup of this bucket to finish"
			if err := s.db.UpdateBackupJob(context.WithoutCancel(ctx), *j); err != nil {
				return nil, err
			}
		}
	}
}
