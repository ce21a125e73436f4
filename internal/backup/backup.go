package backup

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cofferbackup/coffer/internal/bigobj"
	"github.com/cofferbackup/coffer/internal/clock"
	"github.com/cofferbackup/coffer/internal/jobreport"
	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/s3source"
	"github.com/cofferbackup/coffer/internal/vault"
)

// DefaultParallelism is the number of concurrent object reads when
// Options.Parallelism is not set.
const DefaultParallelism = 16

// maxFailures is how many failures a Result keeps; FailedCount has them all.
const maxFailures = 1000

// sampleSize is how many failed versions the manifest names (FailedSample, in the vault).
const sampleSize = 10

// Options describe one backup job.
type Options struct {
	JobID, VaultName, RecoveryPointID, RecoveryPointARN, ResourceARN, Bucket, Connection string

	// BackupACLs and BackupTags are the job's advanced backup settings;
	// true captures ACLs (best effort) and tags.
	BackupACLs, BackupTags bool
	// Parallelism is the number of concurrent object reads; default 16.
	Parallelism int
	// ReadTagsEvery, if above 1, reads the tags and ACLs of versions
	// unchanged since the previous recovery point only every Nth backup;
	// the backups between take them from the previous recovery point and
	// list without MinIO's metadata listing (cheaper). 0 or 1: every
	// backup reads them (exact; the default).
	ReadTagsEvery int
	// FixedChunks stores the data of new versions in fixed 4 MiB chunks
	// (vault.FixedSplitter) instead of the vault's content-defined ones.
	FixedChunks bool
	// DeleteAfterDays is the retention written into the manifest; 0 = keep.
	DeleteAfterDays int64
	// Tags are the recovery point's tags.
	Tags map[string]string
	// Previous is the latest COMPLETED or PARTIAL recovery point of the same
	// resource in this vault; versions it already holds are referenced, not
	// read again. nil makes a full backup.
	Previous *recpoint.Manifest
	// Clock stamps the manifest; default the wall clock.
	Clock clock.Clock

	// window overrides the pipeline's window (tests only).
	window int
}

// Stats are the job's counters. Scanned counts every listed version with
// data; Transferred those read from the source; Deduplicated those
// referenced from the previous recovery point.
type Stats struct {
	ObjectsScanned, BytesScanned           int64
	ObjectsTransferred, BytesTransferred   int64
	ObjectsDeduplicated, BytesDeduplicated int64
	ObjectsFailed, DeleteMarkers           int64
}

// Failure is one version left out of the recovery point.
type Failure = jobreport.Failure

// Result is what a successful run produced. Failures holds at most the
// first 1000; Note is a human remark for the job's status message.
type Result struct {
	Manifest recpoint.Manifest
	Stats    Stats
	Failures []Failure
	Note     string   // names no object: fit for the status message
	Details  []string // the notes with the object they first concerned (the job report)

	peak flowPeak // the pipeline's high-water marks (tests)
}

// counters is Stats updated concurrently.
type counters struct {
	objectsScanned, bytesScanned           atomic.Int64
	objectsTransferred, bytesTransferred   atomic.Int64
	objectsDeduplicated, bytesDeduplicated atomic.Int64
	objectsFailed, deleteMarkers           atomic.Int64
}

func (c *counters) snapshot() Stats {
	return Stats{
		ObjectsScanned: c.objectsScanned.Load(), BytesScanned: c.bytesScanned.Load(),
		ObjectsTransferred: c.objectsTransferred.Load(), BytesTransferred: c.bytesTransferred.Load(),
		ObjectsDeduplicated: c.objectsDeduplicated.Load(), BytesDeduplicated: c.bytesDeduplicated.Load(),
		ObjectsFailed: c.objectsFailed.Load(), DeleteMarkers: c.deleteMarkers.Load(),
	}
}

// job is the state shared by the goroutines of one run.
type job struct {
	src  *s3source.Client
	vw   *vault.Writer
	opts Options
	info s3source.BucketInfo
	caps s3source.Capabilities // probed once for the run

	listed atomic.Bool // some version came with its tags in the listing

	// carry: tags and ACLs of unchanged versions come from the previous
	// recovery point (ReadTagsEvery); tagsCarried and tagsReadAt are the
	// probe's counters for the manifest.
	carry       bool
	tagsCarried int
	tagsReadAt  time.Time

	stats counters
	flow  flowMarks
	big   *bigobj.Limiter // large versions read at once

	aclUnsupported atomic.Bool // the endpoint said GetObjectAcl is not supported

	fixedMu  sync.Mutex
	fixedACL *recpoint.ACL // the endpoint's one ACL (caps.ACLsFixed), once read

	log jobreport.Log // failures (the first maxFailures) and notes
}

func (j *job) fail(key, versionID string, err error) {
	j.stats.objectsFailed.Add(1)
	j.log.Fail(key, versionID, err)
}

// Run backs up opts.Bucket from src into v and registers the recovery
// point. It returns an error, and registers nothing, if the bucket cannot
// be listed, the vault fails or ctx is cancelled (then ctx.Err()).
func Run(ctx context.Context, src *s3source.Client, v *vault.Vault, opts Options, progress func(Stats)) (Result, error) {
	if opts.Bucket == "" {
		return Result{}, errors.New("backup: no bucket given")
	}
	if opts.Parallelism <= 0 {
		opts.Parallelism = DefaultParallelism
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	created := opts.Clock.Now()
	info, err := src.Bucket(ctx, opts.Bucket)
	if err != nil {
		return Result{}, fmt.Errorf("backup of bucket %q: %w", opts.Bucket, err)
	}
	caps, err := src.Probe(ctx, opts.Bucket)
	if err != nil {
		// Unknown capabilities: every version is read as before.
		caps = s3source.Capabilities{}
	}
	vw, err := v.NewWriter(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("backup of bucket %q: open vault writer: %w", opts.Bucket, err)
	}
	j := &job{src: src, vw: vw, opts: opts, info: info, caps: caps, big: bigobj.New(opts.Parallelism),
		log: jobreport.Log{Max: maxFailures}}
	if p := opts.Previous; p != nil && p.Probe != nil && p.Probe.Server == caps.Server {
		j.fixedACL = p.Probe.FixedACL
	}
	j.decideCarry(created)
	if opts.FixedChunks {
		j.log.Note("the data of new versions is stored in fixed 4 MiB chunks (Chunking fixed)")
	}
	switch info.Versioning {
	case "":
		j.log.Note("bucket " + opts.Bucket + " has never been versioned: only current objects were backed up")
	case "Suspended":
		j.log.Note("versioning is suspended on bucket " + opts.Bucket)
	}
	stopProgress := jobreport.StartProgress(j.stats.snapshot, progress)
	res, err := j.run(ctx, v, created)
	stopProgress()
	if err != nil {
		if abortErr := vw.Abort(context.WithoutCancel(ctx)); abortErr != nil {
			err = fmt.Errorf("%w (and abort failed: %v)", err, abortErr)
		}
		if ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		return Result{}, fmt.Errorf("backup of bucket %q: %w", opts.Bucket, err)
	}
	return res, nil
}

// run executes the pipeline, then registers and commits the recovery point.
func (j *job) run(ctx context.Context, v *vault.Vault, created time.Time) (Result, error) {
	prev := j.openPrevious(ctx, v)
	defer prev.close()
	out, err := j.pipeline(ctx, prev)
	if err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	m := j.manifest(out, created)
	if err := j.vw.PutRecoveryPoint(ctx, m); err != nil {
		return Result{}, fmt.Errorf("register recovery point: %w", err)
	}
	if err := j.vw.Commit(ctx); err != nil {
		return Result{}, fmt.Errorf("commit vault: %w", err)
	}
	return Result{
		Manifest: m,
		Stats:    j.stats.snapshot(),
		Failures: j.log.Failures(),
		Note:     strings.Join(j.log.Notes(), "; "),
		Details:  j.log.Details(),
		peak:     j.flow.peak(),
	}, nil
}

// decideCarry decides whether this run reads the tags and ACLs of
// unchanged versions (ReadTagsEvery): it carries them from the previous
// recovery point unless N-1 backups in a row already did.
func (j *job) decideCarry(created time.Time) {
	j.tagsReadAt = created
	n, p := j.opts.ReadTagsEvery, j.opts.Previous
	if n <= 1 || p == nil || p.Records == "" || (p.Bucket != "" && p.Bucket != j.opts.Bucket) {
		return
	}
	carried, readAt := 0, p.CreatedAt
	if p.Probe != nil {
		carried = p.Probe.TagsCarried
		if !p.Probe.TagsReadAt.IsZero() {
			readAt = p.Probe.TagsReadAt
		}
	}
	if carried+1 >= n {
		return
	}
	j.carry, j.tagsCarried, j.tagsReadAt = true, carried+1, readAt
	j.log.Note(fmt.Sprintf("tags and ACLs of unchanged versions are as of %s (ReadTagsEvery %d)", readAt.UTC().Format(time.RFC3339), n))
}

// probe is what the run found out about the endpoint, for the manifest.
func (j *job) probe() *recpoint.Probe {
	p := &recpoint.Probe{Server: j.caps.Server, ObjectLock: j.info.ObjectLock, MetadataListing: j.listed.Load(),
		TagsCarried: j.tagsCarried, TagsReadAt: j.tagsReadAt}
	switch {
	case !j.opts.BackupACLs:
	case j.caps.ACLsFixed:
		p.ACLs = "fixed"
		j.fixedMu.Lock()
		p.FixedACL = j.fixedACL
		j.fixedMu.Unlock()
	default:
		p.ACLs = "read"
	}
	return p
}

// manifest builds the recovery point description from the pipeline output.
func (j *job) manifest(out pipelineOutput, created time.Time) recpoint.Manifest {
	o := j.opts
	m := recpoint.Manifest{
		ID: o.RecoveryPointID, ARN: o.RecoveryPointARN, VaultName: o.VaultName,
		ResourceARN: o.ResourceARN, ResourceType: "S3", Connection: o.Connection,
		Endpoint: j.src.Endpoint(), Bucket: o.Bucket, BackupJobID: o.JobID,
		Status: recpoint.StatusCompleted, CreatedAt: created, CompletedAt: o.Clock.Now(),
		DeleteAfterDays: o.DeleteAfterDays, Tags: o.Tags,
		Versioned:   j.info.Versioning != "",
		Records:     string(out.records),
		RecordCount: out.recordCount, ObjectCount: out.objectCount, TotalBytes: out.totalBytes,
		FailedCount: j.stats.objectsFailed.Load(),
		Probe:       j.probe(),
	}
	if m.FailedCount == 0 {
		return m
	}
	m.Status = recpoint.StatusPartial
	for i, f := range j.log.Failures() {
		if i == sampleSize {
			break
		}
		m.FailedSample = append(m.FailedSample, fmt.Sprintf("%s (version %s): %s", f.Key, f.VersionID, f.Reason))
	}
	// The status message reaches the catalog: a count, no key. The
	// manifest's FailedSample and the job report name them, in the vault.
	m.StatusMessage = fmt.Sprintf("%d object versions could not be backed up; the backup job's report lists them", m.FailedCount)
	return m
}
