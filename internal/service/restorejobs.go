package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/restore"
	"github.com/cofferbackup/coffer/internal/s3source"
	"github.com/cofferbackup/coffer/internal/vault"
)

// Restore metadata keys (StartRestoreJob Metadata). Overwrite is coffer's own.
const (
	MetaDestinationBucket = "DestinationBucketName"
	MetaNewBucket         = "NewBucket"
	MetaItemsToRestore    = "ItemsToRestore"
	MetaVersionsUpTo      = "RestoreLatestVersionsUpTo"
	MetaRestoreACLs       = "RestoreACLs"
	MetaOverwrite         = "Overwrite"
)

// StartRestoreInput is StartRestoreJob's input.
type StartRestoreInput struct {
	RecoveryPointARN string
	Metadata         map[string]string
	IAMRoleARN       string
	IdempotencyToken string
	ResourceType     string
}

// StartRestoreJob validates a restore request, records it and queues it.
func (s *Service) StartRestoreJob(ctx context.Context, in StartRestoreInput) (catalog.RestoreJob, error) {
	if in.RecoveryPointARN == "" {
		return catalog.RestoreJob{}, fmt.Errorf("%w: RecoveryPointArn is required", ErrMissingParameter)
	}
	if in.IdempotencyToken != "" {
		if prev, err := s.restoreJobByToken(ctx, in.IdempotencyToken); !errors.Is(err, ErrNotFound) {
			return prev, err
		}
	}
	if in.ResourceType != "" && in.ResourceType != "S3" {
		return catalog.RestoreJob{}, fmt.Errorf("%w: ResourceType %q is not supported; coffer restores S3", ErrInvalidParameter, in.ResourceType)
	}
	rp, err := s.db.RecoveryPointByARN(ctx, in.RecoveryPointARN)
	if errors.Is(err, catalog.ErrNotFound) {
		return catalog.RestoreJob{}, fmt.Errorf("recovery point %q: %w", in.RecoveryPointARN, ErrNotFound)
	}
	if err != nil {
		return catalog.RestoreJob{}, err
	}
	bucket, _ := parseS3ARN(rp.ResourceARN)
	opts, err := parseRestoreMetadata(in.Metadata, bucket)
	if err != nil {
		return catalog.RestoreJob{}, err
	}
	if err := s.checkDestination(ctx, opts); err != nil {
		return catalog.RestoreJob{}, err
	}
	v, err := s.db.Vault(ctx, rp.VaultName)
	if err != nil {
		return catalog.RestoreJob{}, err
	}
	job := catalog.RestoreJob{
		ID: newID(), RecoveryPointARN: rp.ARN, VaultName: rp.VaultName, VaultARN: v.ARN,
		SourceResourceARN: rp.ResourceARN, ResourceType: "S3", Status: StatePending,
		IdempotencyToken: in.IdempotencyToken, IAMRoleARN: in.IAMRoleARN, Metadata: in.Metadata,
		RecoveryPointCreatedAt: rp.CreatedAt, CreatedAt: s.clock.Now(), PercentDone: "0.0", BackupSize: rp.SizeBytes,
	}
	err = s.db.InsertRestoreJob(ctx, job, s.enqueue(ctx, kindRestore, job.ID))
	if errors.Is(err, catalog.ErrExists) {
		return s.restoreJobByToken(ctx, in.IdempotencyToken) // a concurrent request with the same token won
	}
	if err != nil {
		return catalog.RestoreJob{}, err
	}
	s.log.Info("restore job created", "job", job.ID, "rp", rp.ARN, "destination", opts.DestBucket)
	return job, nil
}

// restoreJobByToken returns the job an earlier request with the same
// IdempotencyToken created, or ErrNotFound.
func (s *Service) restoreJobByToken(ctx context.Context, token string) (catalog.RestoreJob, error) {
	prev, _, err := s.db.ListRestoreJobs(ctx, catalog.RestoreJobFilter{IdempotencyToken: token}, catalog.Page{Max: 1})
	switch {
	case err != nil:
		return catalog.RestoreJob{}, err
	case len(prev) == 0:
		return catalog.RestoreJob{}, fmt.Errorf("restore job with token %q: %w", token, ErrNotFound)
	}
	return prev[0], nil
}

// parseRestoreMetadata turns StartRestoreJob metadata into engine options.
func parseRestoreMetadata(md map[string]string, sourceBucket string) (restore.Options, error) {
	var o restore.Options
	o.DestBucket = md[MetaDestinationBucket]
	if o.DestBucket == "" {
		return o, fmt.Errorf("%w: Metadata DestinationBucketName is required", ErrMissingParameter)
	}
	if err := validateBucketName(o.DestBucket); err != nil {
		return o, err
	}
	var err error
	if o.NewBucket, err = boolMeta(md, MetaNewBucket); err != nil {
		return o, err
	}
	if o.Overwrite, err = boolMeta(md, MetaOverwrite); err != nil {
		return o, err
	}
	if o.RestoreACLs, err = boolMeta(md, MetaRestoreACLs); err != nil {
		return o, err
	}
	switch v := strings.TrimSpace(md[MetaVersionsUpTo]); {
	case v == "":
		o.VersionsUpTo = 1
	case strings.EqualFold(v, "all"):
		o.VersionsUpTo = 0
	default:
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return o, fmt.Errorf("%w: Metadata RestoreLatestVersionsUpTo must be a positive number or \"all\", not %q", ErrInvalidParameter, v)
		}
		o.VersionsUpTo = n
	}
	if raw := md[MetaItemsToRestore]; raw != "" {
		var items []string
		if err := json.Unmarshal([]byte(raw), &items); err != nil {
			return o, fmt.Errorf("%w: Metadata ItemsToRestore must be a JSON array of \"s3://bucket/key-or-prefix\" strings: %v", ErrInvalidParameter, err)
		}
		if _, err := restore.ParseItems(items, sourceBucket); err != nil {
			return o, fmt.Errorf("%w: Metadata ItemsToRestore: %v", ErrInvalidParameter, err)
		}
		o.Items = items
	}
	return o, nil
}

func boolMeta(md map[string]string, key string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(md[key])) {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, fmt.Errorf("%w: Metadata %s must be \"true\" or \"false\", not %q", ErrInvalidParameter, key, md[key])
}

// checkDestination refuses at once what the job would fail on.
func (s *Service) checkDestination(ctx context.Context, o restore.Options) error {
	dst, err := s.source(DefaultConnection)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err = dst.Bucket(ctx, o.DestBucket)
	switch {
	case o.NewBucket && err == nil:
		return fmt.Errorf("%w: destination bucket %q already exists; set NewBucket to false to restore into it", ErrInvalidParameter, o.DestBucket)
	case o.NewBucket && errors.Is(err, s3source.ErrNoSuchBucket):
		return nil
	case !o.NewBucket && errors.Is(err, s3source.ErrNoSuchBucket):
		return fmt.Errorf("%w: destination bucket %q does not exist; set NewBucket to true to create it", ErrInvalidParameter, o.DestBucket)
	case err != nil:
		return fmt.Errorf("check destination bucket %q: %w", o.DestBucket, err)
	}
	return nil
}

// RestoreJob describes one restore job.
func (s *Service) RestoreJob(ctx context.Context, id string) (catalog.RestoreJob, error) {
	j, err := s.db.RestoreJob(ctx, id)
	if errors.Is(err, catalog.ErrNotFound) {
		return j, fmt.Errorf("restore job %q: %w", id, ErrNotFound)
	}
	return j, err
}

// ListRestoreJobs lists restore jobs newest first.
func (s *Service) ListRestoreJobs(ctx context.Context, f catalog.RestoreJobFilter, p catalog.Page) ([]catalog.RestoreJob, string, error) {
	return wrapPage(s.db.ListRestoreJobs(ctx, f, p))
}

// runRestore runs a claimed (RUNNING) restore from vv, whose lease the
// caller holds, and records how it ended.
func (s *Service) runRestore(ctx context.Context, j *catalog.RestoreJob, vv *vault.Vault) {
	bg := context.WithoutCancel(ctx)
	res, err := s.executeRestore(ctx, j, vv)
	switch {
	case err != nil && (errors.Is(context.Cause(ctx), errFenced) || unreachable(err)):
		// Left RUNNING: the takeover resumes it once the database is back
		// (see fence).
		s.log.Warn("restore job stopped: the catalog database is unreachable; it resumes once it is back", "job", j.ID, "err", err)
	case err != nil && errors.Is(context.Cause(ctx), errShutdown):
		s.finishRestore(bg, j, StateFailed, "coffer stopped while the restore was running; objects restored so far remain; start the restore again", nil)
	case err != nil:
		s.finishRestore(bg, j, StateFailed, err.Error(), nil)
	case res.Stats.ObjectsFailed > 0:
		s.finishRestore(bg, j, StateFailed, restoreMessage(res), &res)
	default:
		s.finishRestore(bg, j, StateCompleted, restoreMessage(res), &res)
	}
}

func (s *Service) executeRestore(ctx context.Context, j *catalog.RestoreJob, vv *vault.Vault) (restore.Result, error) {
	if h := s.cfg.TestHooks; h != nil && h.RestoreRunning != nil {
		h.RestoreRunning(ctx, j.ID)
	}
	rp, err := s.db.RecoveryPointByARN(ctx, j.RecoveryPointARN)
	if err != nil {
		return restore.Result{}, err
	}
	bucket, _ := parseS3ARN(rp.ResourceARN)
	opts, err := parseRestoreMetadata(j.Metadata, bucket)
	if err != nil {
		return restore.Result{}, err
	}
	opts.Parallelism = s.cfg.Parallelism
	opts.Resume = j.Run > 0 // an earlier run died: continue what it wrote
	dst, err := s.source(DefaultConnection)
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
		j.PercentDone = percent(st.BytesRestored, j.BackupSize)
		j.Stats = mustJSON(st)
		if _, err := s.db.TransitionOwnRestoreJob(context.WithoutCancel(ctx), *j, StateRunning); err != nil {
			s.log.Warn("record restore progress", "job", j.ID, "err", err)
		}
	})
}

func (s *Service) finishRestore(ctx context.Context, j *catalog.RestoreJob, status, msg string, res *restore.Result) {
	j.Status, j.StatusMessage, j.CompletedAt = status, runNote(j.Run)+msg, s.clock.Now()
	if res != nil {
		j.PercentDone = "100.0"
		j.BytesRestored = res.Stats.BytesRestored
		j.Stats = mustJSON(res.Stats)
	}
	var ok bool
	err := s.untilCatalog(ctx, "record the end of restore job "+j.ID, func() (err error) {
		ok, err = s.db.TransitionOwnRestoreJob(ctx, *j, StateRunning)
		return err
	})
	if err != nil || !ok {
		s.log.Error("record restore end", "job", j.ID, "recorded", ok, "err", err)
		return
	}
	s.log.Info("restore job ended", "job", j.ID, "status", status, "message", msg)
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
