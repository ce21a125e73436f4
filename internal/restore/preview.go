package restore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/cofferbackup/coffer/internal/bigobj"
	"github.com/cofferbackup/coffer/internal/jobreport"
	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/s3source"
	"github.com/cofferbackup/coffer/internal/vault"
)

// DefaultPreviewKeys is how many keys of each class a preview lists when
// not told.
const DefaultPreviewKeys = 100

// KeyClass is one class of keys in a preview: how many, and the first of
// them in key order (at most the preview's limit).
type KeyClass struct {
	Count int64
	Keys  []string
}

// Preview is what a restore or rollback would do, found without writing
// anything: the same record stream merge-joined with the destination's
// listing, each key classified as the run classifies it.
//
// For a restore, Write + DeleteMark keys are its ObjectsRestored (DeleteMark:
// the key's restored history ends in a delete marker), Skip its
// ObjectsSkipped; for a rollback, Write is ObjectsRestored (a new current
// version), DeleteMark DeleteMarkersRestored, Unchanged ObjectsUnchanged.
// Versions, DeleteMarkers and Bytes are what would be written.
type Preview struct {
	Rollback bool
	// Bucket is the destination bucket.
	Bucket                             string
	Write, Skip, DeleteMark, Unchanged KeyClass
	Versions, DeleteMarkers, Bytes     int64
	// Failed counts keys the preview could not compare (a rollback reads
	// each key's metadata and tags); Failures lists them.
	Failed   int64
	Failures []Failure
	Notes    []string
}

type keyClass int

const (
	classWrite keyClass = iota
	classSkip
	classDeleteMark
	classUnchanged
	numClasses
)

// plan collects a preview's classes; workers add to it concurrently.
type plan struct {
	max int

	mu                        sync.Mutex
	classes                   [numClasses]KeyClass
	versions, markers, nbytes int64
}

func (p *plan) add(c keyClass, key string, versions, markers, size int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	kc := &p.classes[c]
	kc.Count++
	// Keep the first max keys in key order (workers finish out of order).
	if i, found := slices.BinarySearch(kc.Keys, key); !found && (len(kc.Keys) < p.max || i < len(kc.Keys)) {
		kc.Keys = slices.Insert(kc.Keys, i, key)
		if len(kc.Keys) > p.max {
			kc.Keys = kc.Keys[:p.max]
		}
	}
	p.versions += versions
	p.markers += markers
	p.nbytes += size
}

// PreviewStream tells what RunStream with the same arguments would do
// now, listing up to maxKeys keys of each class (DefaultPreviewKeys if 0):
// it reads the record stream and lists the destination, and writes
// nothing. The data is read from v only to compare a rollback's key
// whose destination version was uploaded in parts with its recorded one
// (sameData); with v nil such keys are counted as writes.
func PreviewStream(ctx context.Context, dst *s3source.Client, v *vault.Vault, s Stream, opts Options, maxKeys int) (Preview, error) {
	if opts.DestBucket == "" {
		return Preview{}, errors.New("restore preview: no destination bucket given")
	}
	if opts.VersionsUpTo < 0 {
		return Preview{}, fmt.Errorf("restore preview: versions to restore must be 0 (all) or more, got %d", opts.VersionsUpTo)
	}
	prefixes, err := ParseItems(opts.Items, s.Bucket)
	if err != nil {
		return Preview{}, fmt.Errorf("restore preview: %w", err)
	}
	if opts.Parallelism <= 0 {
		opts.Parallelism = DefaultParallelism
	}
	if maxKeys <= 0 {
		maxKeys = DefaultPreviewKeys
	}
	j := &job{dst: dst, v: v, opts: opts, big: bigobj.New(opts.Parallelism), log: jobreport.Log{Max: maxListed}, plan: &plan{max: maxKeys}}
	exists, err := j.checkDest(ctx)
	if err != nil {
		return Preview{}, fmt.Errorf("restore preview: %w", err)
	}
	rd, closeStream, err := s.open(ctx)
	if err != nil {
		return Preview{}, fmt.Errorf("restore preview: %w", err)
	}
	defer closeStream()
	match := newMatcher(prefixes)
	if opts.Rollback {
		err = j.rollback(ctx, rd, match)
	} else {
		it := &keyIter{rd: rd, keep: opts.VersionsUpTo, match: match.match}
		err = mergeDest(ctx, dst, opts.DestBucket, exists, it, func(recs []recpoint.Record, cur *s3source.Version) error {
			if recs != nil {
				j.planRestoreKey(recs, cur)
			}
			return ctx.Err()
		})
	}
	if ctx.Err() != nil {
		return Preview{}, ctx.Err()
	}
	if err != nil {
		return Preview{}, fmt.Errorf("restore preview of recovery point %q: %w", s.Name, err)
	}
	p := j.plan
	st := j.stats.snapshot()
	return Preview{
		Rollback: opts.Rollback, Bucket: opts.DestBucket,
		Write: p.classes[classWrite], Skip: p.classes[classSkip],
		DeleteMark: p.classes[classDeleteMark], Unchanged: p.classes[classUnchanged],
		Versions: p.versions, DeleteMarkers: p.markers, Bytes: p.nbytes,
		Failed: st.ObjectsFailed, Failures: j.log.Failures(), Notes: j.log.Notes(),
	}, nil
}

// planRestoreKey classifies a key as restoreKey would treat it: skipped
// if it has a current version at the destination and Overwrite is off,
// else written (its selected history).
func (j *job) planRestoreKey(recs []recpoint.Record, cur *s3source.Version) {
	sel := selectVersions(recs, j.opts.VersionsUpTo)
	if len(sel) == 0 {
		return
	}
	key := sel[0].Key
	if !j.opts.Overwrite && cur != nil && !cur.DeleteMarker {
		j.plan.add(classSkip, key, 0, 0, 0)
		return
	}
	var versions, markers, size int64
	for i := range sel {
		if sel[i].DeleteMarker {
			markers++
		} else {
			versions++
			size += sel[i].Size
		}
	}
	c := classWrite
	if sel[len(sel)-1].DeleteMarker {
		c = classDeleteMark
	}
	j.plan.add(c, key, versions, markers, size)
}

// checkDest checks the destination as prepareDest does, changing
// nothing; exists is false for a bucket a restore would create.
func (j *job) checkDest(ctx context.Context) (exists bool, err error) {
	b := j.opts.DestBucket
	info, err := j.dst.Bucket(ctx, b)
	switch {
	case j.opts.NewBucket && err == nil:
		return false, fmt.Errorf("destination bucket %q already exists; a restore to a new bucket needs an unused name", b)
	case j.opts.NewBucket && errors.Is(err, s3source.ErrNoSuchBucket):
		return false, nil
	case errors.Is(err, s3source.ErrNoSuchBucket):
		return false, fmt.Errorf("destination bucket %q does not exist (restore to a new bucket to create it): %w", b, err)
	case err != nil:
		return false, fmt.Errorf("destination bucket %q at %s: %w", b, j.dst.Endpoint(), err)
	case j.opts.Rollback:
		return true, rollbackDest(b, info)
	}
	if info.Versioning != "Enabled" && j.opts.VersionsUpTo != 1 {
		j.log.NoteOnce("versioning", fmt.Sprintf("destination bucket %s has no versioning: only the final state of each key is kept", b))
	}
	return true, nil
}
