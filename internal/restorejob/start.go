package restorejob

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/jobs"
	"github.com/cofferbackup/coffer/internal/restore"
	"github.com/cofferbackup/coffer/internal/s3source"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// StartRestoreInput is StartRestoreJob's input.
type StartRestoreInput struct {
	RecoveryPointARN string
	Metadata         map[string]string
	IAMRoleARN       string
	IdempotencyToken string
	ResourceType     string
}

// Start validates a restore request, records it and queues it.
func (r *Restores) Start(ctx context.Context, in StartRestoreInput) (jobstore.RestoreJob, error) {
	if in.RecoveryPointARN == "" {
		return jobstore.RestoreJob{}, fmt.Errorf("%w: RecoveryPointArn is required", vocab.ErrMissingParameter)
	}
	if in.IdempotencyToken != "" {
		if prev, err := r.restoreJobByToken(ctx, in.IdempotencyToken); !errors.Is(err, vocab.ErrNotFound) {
			return prev, err
		}
	}
	rp, opts, _, err := r.validate(ctx, in)
	if err != nil {
		return jobstore.RestoreJob{}, err
	}
	v, err := r.cfg.DB.Vault(ctx, rp.VaultName)
	if err != nil {
		return jobstore.RestoreJob{}, err
	}
	job := jobstore.RestoreJob{
		ID: vocab.NewID(), RecoveryPointARN: rp.ARN, VaultName: rp.VaultName, VaultARN: v.ARN,
		SourceResourceARN: rp.ResourceARN, ResourceType: "S3", Status: jobs.StatePending,
		IdempotencyToken: in.IdempotencyToken, IAMRoleARN: in.IAMRoleARN, Metadata: r.catalogMetadata(in.Metadata, opts.Items),
		RecoveryPointCreatedAt: rp.CreatedAt, CreatedAt: r.cfg.Clock.Now(), PercentDone: "0.0", BackupSize: rp.SizeBytes,
	}
	if err := r.putItems(ctx, job, opts.Items); err != nil {
		return jobstore.RestoreJob{}, err
	}
	err = r.cfg.Jobs.InsertRestoreJob(ctx, job, r.cfg.Core.Enqueue(ctx, kind, job.ID, 0))
	if errors.Is(err, catalog.ErrExists) {
		return r.restoreJobByToken(ctx, in.IdempotencyToken) // a concurrent request with the same token won
	}
	if err != nil {
		return jobstore.RestoreJob{}, err
	}
	r.cfg.Log.Info("restore job created", "job", job.ID, "rp", rp.ARN, "destination", opts.DestBucket)
	return job, nil
}

// validate checks a restore request (StartRestoreJob's or a preview's)
// and returns its recovery point, engine options and destination
// connection.
func (r *Restores) validate(ctx context.Context, in StartRestoreInput) (rp catalog.RecoveryPoint, opts restore.Options, conn string, err error) {
	if in.ResourceType != "" && in.ResourceType != "S3" {
		return rp, opts, "", fmt.Errorf("%w: ResourceType %q is not supported; coffer restores S3", vocab.ErrInvalidParameter, in.ResourceType)
	}
	rp, err = r.cfg.DB.RecoveryPointByARN(ctx, in.RecoveryPointARN)
	if errors.Is(err, catalog.ErrNotFound) {
		return rp, opts, "", fmt.Errorf("recovery point %q: %w", in.RecoveryPointARN, vocab.ErrNotFound)
	}
	if err != nil {
		return rp, opts, "", err
	}
	srcConn, bucket, _ := vocab.ParseS3ARN(rp.ResourceARN)
	if opts, err = parseRestoreMetadata(in.Metadata, bucket); err != nil {
		return rp, opts, "", err
	}
	if err := r.checkRestoreTime(ctx, in.Metadata, rp); err != nil {
		return rp, opts, "", err
	}
	if conn, err = destConnection(in.Metadata, rp.ResourceARN); err != nil {
		return rp, opts, "", err
	}
	if opts.Rollback && conn != srcConn {
		return rp, opts, "", fmt.Errorf("%w: a rollback restores the recovery point's own bucket in place, on its connection %q, not %q",
			vocab.ErrInvalidParameter, srcConn, conn)
	}
	if err := r.checkDestination(ctx, conn, opts); err != nil {
		return rp, opts, "", err
	}
	return rp, opts, conn, nil
}

// catalogMetadata is the metadata the catalog keeps of a request: all but
// ItemsToRestore, for which it keeps their count and keyed digest.
func (r *Restores) catalogMetadata(md map[string]string, items []string) map[string]string {
	out := make(map[string]string, len(md)+1)
	for k, v := range md {
		switch k {
		case MetaItemsToRestore, MetaItemsCount, MetaItemsDigest:
		default:
			out[k] = v
		}
	}
	if len(items) > 0 {
		out[MetaItemsCount] = strconv.Itoa(len(items))
		out[MetaItemsDigest] = r.cfg.Hasher.Digest(items)
	}
	return out
}

// putItems records a new job's items in its vault, before the catalog
// row that refers to them: a job in the catalog always finds its items,
// whichever process runs it, after any restart. A request that fails
// after this leaves an unreferenced record, a few bytes in the vault.
func (r *Restores) putItems(ctx context.Context, j jobstore.RestoreJob, items []string) error {
	if len(items) == 0 {
		return nil
	}
	err := r.cfg.Vaults.WithVault(ctx, j.VaultName, func(vv *vault.Vault) error {
		return vv.PutRestoreItems(ctx, vault.RestoreItems{JobID: j.ID, Items: items, CreatedAt: j.CreatedAt})
	})
	if err != nil {
		return fmt.Errorf("record the items to restore in backup vault %q: %w", j.VaultName, err)
	}
	return nil
}

// loadItems sets o.Items from the vault for a job whose catalog row keeps
// only their count and digest, checking both.
func (r *Restores) loadItems(ctx context.Context, j *jobstore.RestoreJob, vv *vault.Vault, o *restore.Options) error {
	n := j.Metadata[MetaItemsCount]
	if n == "" {
		return nil // no items, or a job recorded before the items moved to the vault
	}
	rec, err := vv.RestoreItems(ctx, j.ID)
	if err != nil {
		return fmt.Errorf("read the items to restore: %w", err)
	}
	if strconv.Itoa(len(rec.Items)) != n || r.cfg.Hasher.Digest(rec.Items) != j.Metadata[MetaItemsDigest] {
		return fmt.Errorf("the items to restore recorded in backup vault %q do not match the job (%d items, want %s)", j.VaultName, len(rec.Items), n)
	}
	o.Items = rec.Items
	return nil
}

// restoreJobByToken returns the job an earlier request with the same
// IdempotencyToken created, or vocab.ErrNotFound.
func (r *Restores) restoreJobByToken(ctx context.Context, token string) (jobstore.RestoreJob, error) {
	prev, _, err := r.cfg.Jobs.ListRestoreJobs(ctx, jobstore.RestoreJobFilter{IdempotencyToken: token}, catalog.Page{Max: 1})
	switch {
	case err != nil:
		return jobstore.RestoreJob{}, err
	case len(prev) == 0:
		return jobstore.RestoreJob{}, fmt.Errorf("restore job with token %q: %w", token, vocab.ErrNotFound)
	}
	return prev[0], nil
}

// parseRestoreMetadata turns StartRestoreJob metadata into engine options.
func parseRestoreMetadata(md map[string]string, sourceBucket string) (restore.Options, error) {
	var o restore.Options
	o.DestBucket = md[MetaDestinationBucket]
	if err := parseMode(md, sourceBucket, &o); err != nil {
		return o, err
	}
	if o.DestBucket == "" {
		return o, fmt.Errorf("%w: Metadata DestinationBucketName is required", vocab.ErrMissingParameter)
	}
	if err := vocab.ValidateBucketName(o.DestBucket); err != nil {
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
			return o, fmt.Errorf("%w: Metadata RestoreLatestVersionsUpTo must be a positive number or \"all\", not %q", vocab.ErrInvalidParameter, v)
		}
		o.VersionsUpTo = n
	}
	if raw := md[MetaItemsToRestore]; raw != "" {
		var items []string
		if err := json.Unmarshal([]byte(raw), &items); err != nil {
			return o, fmt.Errorf("%w: Metadata ItemsToRestore must be a JSON array of \"s3://bucket/key-or-prefix\" strings: %v", vocab.ErrInvalidParameter, err)
		}
		if _, err := restore.ParseItems(items, sourceBucket); err != nil {
			return o, fmt.Errorf("%w: Metadata ItemsToRestore: %v", vocab.ErrInvalidParameter, err)
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
	return false, fmt.Errorf("%w: Metadata %s must be \"true\" or \"false\", not %q", vocab.ErrInvalidParameter, key, md[key])
}

// checkDestination refuses at once what the job would fail on.
func (r *Restores) checkDestination(ctx context.Context, conn string, o restore.Options) error {
	dst, err := r.cfg.Source(ctx, conn)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	info, err := dst.Bucket(ctx, o.DestBucket)
	switch {
	case o.Rollback && err == nil && info.Versioning != "Enabled":
		return fmt.Errorf("%w: bucket %q is not versioned: a rollback writes new versions and delete markers and keeps every version, which needs versioning enabled", vocab.ErrInvalidParameter, o.DestBucket)
	case o.NewBucket && err == nil:
		return fmt.Errorf("%w: destination bucket %q already exists; set NewBucket to false to restore into it", vocab.ErrInvalidParameter, o.DestBucket)
	case o.NewBucket && errors.Is(err, s3source.ErrNoSuchBucket):
		return nil
	case !o.NewBucket && errors.Is(err, s3source.ErrNoSuchBucket):
		return fmt.Errorf("%w: destination bucket %q does not exist; set NewBucket to true to create it", vocab.ErrInvalidParameter, o.DestBucket)
	case err != nil:
		return fmt.Errorf("%w: the S3 endpoint did not answer about destination bucket %q: %v", vocab.ErrUnavailable, o.DestBucket, err)
	}
	return nil
}

// Job describes one restore job.
func (r *Restores) Job(ctx context.Context, id string) (jobstore.RestoreJob, error) {
	j, err := r.cfg.Jobs.RestoreJob(ctx, id)
	if errors.Is(err, catalog.ErrNotFound) {
		return j, fmt.Errorf("restore job %q: %w", id, vocab.ErrNotFound)
	}
	return j, err
}
