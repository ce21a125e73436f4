package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cofferbackup/coffer/internal/bigobj"
	"github.com/cofferbackup/coffer/internal/jobreport"
	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/s3source"
	"github.com/cofferbackup/coffer/internal/vault"
)

// DefaultParallelism is the number of keys restored concurrently when
// Options.Parallelism is not set.
const DefaultParallelism = 8

// maxListed is how many skipped keys and failures a Result keeps.
const maxListed = 1000

// Options describe one restore job.
type Options struct {
	// DestBucket receives the objects. With NewBucket it is created (with
	// versioning) and must not exist yet; otherwise it must exist.
	DestBucket string
	NewBucket  bool
	// Items are "s3://bucket/key-or-prefix" selections; empty = everything.
	// The bucket must be the recovery point's; a key matches an item when
	// it starts with the item's key (an exact key is its own prefix).
	Items []string
	// VersionsUpTo restores the newest N entries (versions and delete
	// markers) of each key; 0 restores all of them.
	VersionsUpTo int
	// Overwrite writes keys that already exist at the destination; without
	// it they are skipped and reported.
	Overwrite bool
	// RestoreACLs puts captured ACLs back, best effort.
	RestoreACLs bool
	// Parallelism is the number of keys restored concurrently; default 8.
	Parallelism int
	// Resume continues a run of the same job that a dead process left
	// unfinished: with NewBucket, a destination that exists is the one the
	// earlier run created, and every entry of a key there was written by
	// it (a PUT is atomic): a key's listed history, delete markers
	// included, says how much of it is done. A key done is counted as
	// restored before rather than skipped; one the earlier run had begun
	// gets the entries it lacks, on top of those it has (resumeKey).
	Resume bool
	// Rollback rolls DestBucket, the recovery point's own bucket, which
	// must be versioned, back to the recovery point's state: see
	// rollback.go. VersionsUpTo and Overwrite do not apply.
	Rollback bool
	// TestHookBeforeWrite, if set, is called after a key was found absent
	// at the destination and before its first write (tests write the key
	// there meanwhile). Nil in production.
	TestHookBeforeWrite func(key string)
}

// Stats are the job's counters. ObjectsRestored counts keys written,
// VersionsRestored the object versions among them; TotalBytes is the size
// of everything selected for writing (skipped keys excluded).
type Stats struct {
	ObjectsRestored, BytesRestored, VersionsRestored, DeleteMarkersRestored int64
	ObjectsSkipped, ObjectsFailed, TotalBytes                               int64
	// ObjectsResumed counts keys an earlier run of a resumed job wrote.
	ObjectsResumed int64
	// ObjectsUnchanged counts the keys a rollback found already equal to
	// the recovery point's state.
	ObjectsUnchanged int64 `json:",omitempty"`
}

// Failure is one key (at one version) that could not be restored.
type Failure = jobreport.Failure

// Result is what a run did. Skipped and Failures hold at most 1000 entries.
type Result struct {
	Stats    Stats
	Skipped  []string
	Failures []Failure
	Note     string   // names no object: fit for the status message
	Details  []string // the notes with the object they first concerned (the job report)
}

type counters struct {
	objectsRestored, bytesRestored, versionsRestored, deleteMarkersRestored atomic.Int64
	objectsSkipped, objectsFailed, totalBytes                               atomic.Int64
	objectsResumed, objectsUnchanged                                        atomic.Int64
}

func (c *counters) snapshot() Stats {
	return Stats{
		ObjectsRestored: c.objectsRestored.Load(), BytesRestored: c.bytesRestored.Load(),
		VersionsRestored: c.versionsRestored.Load(), DeleteMarkersRestored: c.deleteMarkersRestored.Load(),
		ObjectsSkipped: c.objectsSkipped.Load(), ObjectsFailed: c.objectsFailed.Load(),
		TotalBytes: c.totalBytes.Load(), ObjectsResumed: c.objectsResumed.Load(),
		ObjectsUnchanged: c.objectsUnchanged.Load(),
	}
}

// job is the state shared by the goroutines of one run.
type job struct {
	dst   *s3source.Client
	v     *vault.Vault
	opts  Options
	stats counters
	big   *bigobj.Limiter // large versions written at once

	aclUnsupported atomic.Bool
	// ifAbsent: the first write of each key is conditional (If-None-Match:
	// *), because Overwrite is off and the destination honours it.
	ifAbsent bool

	// plan, in a preview, collects what the run would do instead of
	// doing it (preview.go).
	plan *plan

	log     jobreport.Log // failures (the first maxListed) and notes
	mu      sync.Mutex
	skipped []string
}

func (j *job) fail(key, versionID string, err error) {
	j.stats.objectsFailed.Add(1)
	j.log.Fail(key, versionID, err)
}

func (j *job) skip(key string) {
	j.stats.objectsSkipped.Add(1)
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.skipped) < maxListed {
		j.skipped = append(j.skipped, key)
	}
}

// RunStream restores the recovery point state s into opts.DestBucket on
// dst, with the data from v (Run is RunStream of a manifest's records).
// Per-key failures are reported in the Result (the caller decides between
// COMPLETED, PARTIAL and FAILED); an unusable destination, an unreadable
// record stream or a cancelled context (ctx.Err()) fail the run.
func RunStream(ctx context.Context, dst *s3source.Client, v *vault.Vault, s Stream, opts Options, progress func(Stats)) (Result, error) {
	if opts.DestBucket == "" {
		return Result{}, errors.New("restore: no destination bucket given")
	}
	if opts.VersionsUpTo < 0 {
		return Result{}, fmt.Errorf("restore: versions to restore must be 0 (all) or more, got %d", opts.VersionsUpTo)
	}
	prefixes, err := ParseItems(opts.Items, s.Bucket)
	if err != nil {
		return Result{}, fmt.Errorf("restore: %w", err)
	}
	if opts.Parallelism <= 0 {
		opts.Parallelism = DefaultParallelism
	}
	j := &job{dst: dst, v: v, opts: opts, big: bigobj.New(opts.Parallelism), log: jobreport.Log{Max: maxListed}}
	if err := j.prepareDest(ctx); err != nil {
		return Result{}, fmt.Errorf("restore: %w", err)
	}
	rd, closeStream, err := s.open(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("restore: %w", err)
	}
	defer closeStream()
	stop := jobreport.StartProgress(j.stats.snapshot, progress)
	if opts.Rollback {
		err = j.rollback(ctx, rd, newMatcher(prefixes))
	} else {
		err = j.dispatch(ctx, rd, newMatcher(prefixes))
	}
	stop()
	if ctx.Err() != nil {
		return Result{}, ctx.Err()
	}
	if err != nil {
		return Result{}, fmt.Errorf("restore of recovery point %q: %w", s.Name, err)
	}
	return j.result(), nil
}

func (j *job) result() Result {
	notes := j.log.Notes()
	if n := j.stats.objectsSkipped.Load(); n > 0 {
		notes = append(notes, fmt.Sprintf("%d keys already existed in %s and were skipped (overwrite not requested)",
			n, j.opts.DestBucket))
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return Result{
		Stats:    j.stats.snapshot(),
		Skipped:  append([]string(nil), j.skipped...),
		Failures: j.log.Failures(),
		Note:     strings.Join(notes, "; "),
		Details:  j.log.Details(),
	}
}

// prepareDest creates or checks the destination bucket.
func (j *job) prepareDest(ctx context.Context) error {
	b := j.opts.DestBucket
	if j.opts.NewBucket {
		err := j.dst.CreateBucket(ctx, b, true)
		if errors.Is(err, s3source.ErrBucketExists) && j.opts.Resume {
			// Created by the earlier run of this job, which may have
			// stopped before it turned versioning on.
			err = j.dst.EnableVersioning(ctx, b)
		}
		if errors.Is(err, s3source.ErrBucketExists) {
			return fmt.Errorf("destination bucket %q already exists; a restore to a new bucket needs an unused name: %w", b, err)
		}
		if err != nil {
			return fmt.Errorf("create destination bucket %q: %w", b, err)
		}
	}
	info, err := j.dst.Bucket(ctx, b)
	if errors.Is(err, s3source.ErrNoSuchBucket) {
		return fmt.Errorf("destination bucket %q does not exist (restore to a new bucket to create it): %w", b, err)
	}
	if err != nil {
		return fmt.Errorf("destination bucket %q at %s: %w", b, j.dst.Endpoint(), err)
	}
	if j.opts.Rollback {
		return rollbackDest(b, info)
	}
	if info.Versioning != "Enabled" && j.opts.VersionsUpTo != 1 {
		j.log.NoteOnce("versioning", fmt.Sprintf("destination bucket %s has no versioning: only the final state of each key is kept", b))
	}
	if !j.opts.Overwrite {
		j.probeConditional(ctx)
	}
	return nil
}

// probeConditional decides whether keys are written with If-None-Match: *.
// Without it a key written at the destination between the check that it
// is absent and the write is replaced, so the restore says so.
func (j *job) probeConditional(ctx context.Context) {
	ok, err := j.dst.ConditionalWrites(ctx, j.opts.DestBucket)
	switch {
	case err != nil:
		j.log.NoteOnce("conditional", fmt.Sprintf("could not find out whether %s honours conditional writes (%v): "+
			"a key written there during the restore may be replaced", j.opts.DestBucket, err))
	case !ok:
		j.log.NoteOnce("conditional", fmt.Sprintf("the destination does not honour conditional writes (If-None-Match): "+
			"a key written to %s during the restore may be replaced", j.opts.DestBucket))
	}
	j.ifAbsent = ok
}

// dispatch streams the records, groups them by key and feeds the keys that
// match to the workers.
func (j *job) dispatch(ctx context.Context, rd *recpoint.Reader, match *matcher) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	keys := make(chan []recpoint.Record, j.opts.Parallelism)
	var wg sync.WaitGroup
	for range j.opts.Parallelism {
		wg.Go(func() {
			for recs := range keys {
				if err := j.restoreKey(ctx, recs); err != nil {
					cancel(err)
				}
			}
		})
	}
	readErr := groupKeys(rd, j.opts.VersionsUpTo, match.match, func(recs []recpoint.Record) bool {
		select {
		case keys <- recs:
			return true
		case <-ctx.Done():
			return false
		}
	})
	close(keys)
	wg.Wait()
	if readErr != nil {
		return readErr
	}
	return context.Cause(ctx)
}

// groupKeys reads a record stream and calls send with the records of each
// key that match accepts, newest first, until the stream ends or send
// returns false. Of a key only the newest keep records are held (all if
// keep is 0), and none of a key that is not wanted: older versions are
// never restored, and a key with a long history would otherwise sit in
// memory whole.
func groupKeys(rd *recpoint.Reader, keep int, match func(key string) bool, send func([]recpoint.Record) bool) error {
	var (
		group   []recpoint.Record
		key     string
		wanted  bool
		started bool
	)
	flush := func() bool {
		return !wanted || len(group) == 0 || send(group)
	}
	for {
		var r recpoint.Record
		err := rd.Next(&r)
		if errors.Is(err, io.EOF) {
			flush()
			return nil
		}
		if err != nil {
			return fmt.Errorf("read record stream: %w", err)
		}
		if !started || r.Key != key {
			if !flush() {
				return nil
			}
			key, wanted, group, started = r.Key, match(r.Key), nil, true
		}
		if wanted && (keep == 0 || len(group) < keep) {
			group = append(group, r)
		}
	}
}
