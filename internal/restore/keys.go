package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/s3source"
	"github.com/cofferbackup/coffer/internal/vault"
)

// selectVersions returns the entries of one key to write, oldest first:
// the newest n of its history (all if n is 0), without the leading delete
// markers that have nothing older before them. recs are newest first.
func selectVersions(recs []recpoint.Record, n int) []recpoint.Record {
	if n > 0 && len(recs) > n {
		recs = recs[:n]
	}
	out := make([]recpoint.Record, 0, len(recs))
	for i := len(recs) - 1; i >= 0; i-- {
		if len(out) == 0 && recs[i].DeleteMarker {
			continue
		}
		out = append(out, recs[i])
	}
	return out
}

// restoreKey writes the selected history of one key. It records per-key
// failures itself and returns only errors that must stop the run.
//
// Without Overwrite a key that exists is left alone: a HEAD finds it
// (which also saves uploading what would be refused), and where the
// destination honours conditional writes the key's first write carries
// If-None-Match: *, so a key written between the HEAD and the PUT is not
// replaced either (412, counted as skipped like the HEAD's finding). Only
// the first write is conditional: the later versions of a multi-version
// key go on top of the one this restore just wrote. A resumed restore
// into a new bucket goes by the key's listed history instead (resumeKey).
func (j *job) restoreKey(ctx context.Context, recs []recpoint.Record) error {
	sel := selectVersions(recs, j.opts.VersionsUpTo)
	if len(sel) == 0 {
		return nil
	}
	key := sel[0].Key
	if j.opts.Resume && j.opts.NewBucket {
		// In the bucket the earlier run created, the key's listed history
		// tells how much of it that run wrote; a HEAD would miss a key
		// whose newest entry is a delete marker and write it all again.
		resumed, done, err := j.resumeKey(ctx, key, sel)
		if err != nil {
			return j.keyFailed(ctx, key, "", fmt.Errorf("resume: %w", err))
		}
		if done {
			j.existing(key)
			return nil
		}
		return j.writeVersions(ctx, key, sel, resumed)
	}
	if !j.opts.Overwrite {
		// In a bucket this restore created, a key exists only if someone
		// wrote it meanwhile, and a conditional first write refuses that
		// atomically: the HEAD, one request per key, is spared there. In a
		// bucket that held keys before, it saves uploading data that the
		// condition would then refuse.
		if !j.opts.NewBucket || !j.ifAbsent {
			exists, err := j.dst.ObjectExists(ctx, j.opts.DestBucket, key)
			if err != nil {
				return j.keyFailed(ctx, key, "", fmt.Errorf("check destination: %w", err))
			}
			if exists {
				j.existing(key)
				return nil
			}
		}
		if j.opts.TestHookBeforeWrite != nil {
			j.opts.TestHookBeforeWrite(key)
		}
	}
	return j.writeVersions(ctx, key, sel, nil)
}

// writeVersions writes the selected history of key, from resumed on when
// an earlier run of a resumed restore wrote its beginning.
func (j *job) writeVersions(ctx context.Context, key string, sel []recpoint.Record, resumed *resumePoint) error {
	from, prev := 0, "" // prev: the version id of this restore's last write of the key
	if resumed != nil {
		from, prev = resumed.from, resumed.prev
	}
	var size int64
	for i := from; i < len(sel); i++ {
		if !sel[i].DeleteMarker {
			size += sel[i].Size
		}
	}
	j.stats.totalBytes.Add(size)
	for i := from; i < len(sel); i++ {
		rec := &sel[i]
		if rec.DeleteMarker {
			marker, err := j.putDeleteMarker(ctx, key, prev)
			if err != nil {
				return j.keyFailed(ctx, key, rec.VersionID, fmt.Errorf("write delete marker: %w", err))
			}
			prev = marker
			j.stats.deleteMarkersRestored.Add(1)
			continue
		}
		// selectVersions never puts a delete marker first: i == 0 is the
		// key's first write.
		var err error
		if i == 0 && j.ifAbsent {
			var exists bool
			if exists, prev, err = j.putFirst(ctx, rec); exists {
				j.stats.totalBytes.Add(-size)
				j.existing(key)
				return nil
			}
		} else {
			prev, err = j.putVersion(ctx, rec, false, prev)
		}
		// Writing later versions after a failed one would reorder the
		// history, so the rest of the key is given up.
		if err != nil {
			return j.keyFailed(ctx, key, rec.VersionID, err)
		}
		j.stats.versionsRestored.Add(1)
		j.stats.bytesRestored.Add(rec.Size)
	}
	j.stats.objectsRestored.Add(1)
	return nil
}

// resumePoint is where a resumed restore goes on with a key that the
// earlier run had begun: from the from-th selected entry, on top of the
// version prev.
type resumePoint struct {
	from int
	prev string
}

// errHistoryDiffers: a key's history at the destination is not a
// beginning of what the restore writes, so someone else wrote the key.
var errHistoryDiffers = errors.New("the key's history at the destination is not what the earlier run wrote")

// resumeKey looks, for a key of a resumed restore into a new bucket, at
// how much of its selected history the earlier run wrote: done when all
// of it, a nil point when none, else where to go on. In a bucket the
// earlier run created, every entry of the key is its, in order (each
// write is atomic), so the destination holds a beginning of sel; see
// resumeFrom for how the entries are matched.
func (j *job) resumeKey(ctx context.Context, key string, sel []recpoint.Record) (p *resumePoint, done bool, err error) {
	have, err := j.dst.KeyVersions(ctx, j.opts.DestBucket, key, len(sel))
	if err != nil {
		return nil, false, err
	}
	if len(have) == 0 {
		return nil, false, nil
	}
	from, err := resumeFrom(sel, have)
	if err != nil {
		return nil, false, err
	}
	if from >= len(sel) {
		return nil, true, nil
	}
	p = &resumePoint{from: from}
	if !have[0].DeleteMarker {
		p.prev = have[0].VersionID
	}
	return p, false, nil
}

// resumeFrom matches the destination's entries of a key (have, newest
// first) with the selected ones (sel, oldest first) and returns how many
// of sel are written. Entries are matched, not counted: an endpoint that
// writes no delete marker on a delete marker (MinIO) holds one marker for
// a run of adjacent ones in sel, and counting took the key's last entries
// for unwritten and wrote them twice. A marker at the destination stands
// for the whole run when a version follows it there; when it is the
// newest entry, the rest of the run is written again (a DELETE that such
// an endpoint ignores, and that one keeping adjacent markers needs).
func resumeFrom(sel []recpoint.Record, have []s3source.Version) (int, error) {
	i := 0
	for k := len(have) - 1; k >= 0 && i < len(sel); k-- {
		h := have[k]
		if h.DeleteMarker != sel[i].DeleteMarker || (!h.DeleteMarker && h.Size != sel[i].Size) {
			return 0, fmt.Errorf("%w (entry %d)", errHistoryDiffers, len(have)-k)
		}
		i++
		if h.DeleteMarker && k > 0 && !have[k-1].DeleteMarker {
			for i < len(sel) && sel[i].DeleteMarker {
				i++
			}
		}
	}
	return i, nil
}

// existing counts a key found at the destination: written by the earlier
// run of a resumed restore into a new bucket, or else skipped.
func (j *job) existing(key string) {
	if j.opts.Resume && j.opts.NewBucket {
		j.stats.objectsResumed.Add(1)
		return
	}
	j.skip(key)
}

// keyFailed records a key's failure; a vanished destination bucket or a
// cancelled context stops the run instead.
func (j *job) keyFailed(ctx context.Context, key, versionID string, err error) error {
	if cause := context.Cause(ctx); cause != nil {
		return cause
	}
	if errors.Is(err, s3source.ErrNoSuchBucket) {
		return fmt.Errorf("destination bucket %q: %w", j.opts.DestBucket, err)
	}
	j.fail(key, versionID, err)
	return nil
}

// putVersion writes one object version with its data from the vault,
// with If-None-Match: * if ifAbsent (ErrPreconditionFailed: the key exists),
// and returns the version id written. prev is the version id of this
// restore's previous write of the key ("" for its first).
func (j *job) putVersion(ctx context.Context, rec *recpoint.Record, ifAbsent bool, prev string) (string, error) {
	withTags := rec.TagsState == recpoint.StateCaptured && len(rec.Tags) > 0
	put := j.dst.PutObject
	if ifAbsent {
		put = j.dst.PutObjectIfAbsent
	}
	var versionID string
	tries := 0
	err := j.dst.Retry().Do(ctx, func(ctx context.Context) error {
		tries++
		if tries > 1 && !ifAbsent {
			if vid, ok := j.landed(ctx, rec, prev); ok {
				versionID = vid
				return nil
			}
		}
		release, err := j.big.Acquire(ctx, rec.Size)
		if err != nil {
			return fmt.Errorf("wait to write a large object: %w", err)
		}
		defer release()
		body, err := j.openData(ctx, rec)
		if err != nil {
			return err
		}
		defer body.Close()
		versionID, err = put(ctx, j.opts.DestBucket, rec, body, withTags)
		if err != nil {
			return fmt.Errorf("write object: %w", err)
		}
		return nil
	}, transient)
	if ifAbsent && tries > 1 && errors.Is(err, s3source.ErrPreconditionFailed) && j.ownWrite(ctx, rec) {
		// A try whose answer was lost wrote it: the 412 is this write's.
		err = nil
		versionID = ""
	}
	if err != nil {
		return "", err
	}
	j.putACL(ctx, rec, versionID)
	return versionID, nil
}

// putDeleteMarker writes a delete marker over the entry prev this
// restore wrote ("" unknown) and returns the marker's version id ("" if
// the endpoint names none). Before another try it checks, as landed
// does, whether the try whose answer was lost wrote it: a delete marker
// newest in the key's listing, other than prev, is that write. (MinIO
// adds no marker on a marker: the second of two is written again there,
// and stays one.)
func (j *job) putDeleteMarker(ctx context.Context, key, prev string) (string, error) {
	tries := 0
	var marker string
	err := j.dst.Retry().Do(ctx, func(ctx context.Context) error {
		tries++
		if tries > 1 && prev != "" {
			v, found, err := j.dst.Latest(ctx, j.opts.DestBucket, key)
			if err == nil && found && v.DeleteMarker && v.VersionID != "" && v.VersionID != "null" && v.VersionID != prev {
				marker = v.VersionID
				return nil
			}
		}
		var err error
		marker, err = j.dst.PutDeleteMarker(ctx, j.opts.DestBucket, key)
		return err
	}, transient)
	if marker == "null" {
		marker = ""
	}
	return marker, err
}

// landed reports, before another try of a version's write, whether the
// try whose answer was lost wrote it after all (the endpoint did the
// work, the connection broke before its answer arrived: a second write
// would leave the version twice in a versioned bucket's history). It did
// if the key's current version is one this restore did not write before
// (not prev), of rec's size, and, for the key's first write, of rec's ETag
// (a version already there may have the size), or of the ETag this
// restore's multipart upload of rec's data gets.
func (j *job) landed(ctx context.Context, rec *recpoint.Record, prev string) (string, bool) {
	m, exists, err := j.dst.Current(ctx, j.opts.DestBucket, rec.Key)
	if err != nil || !exists || m.Size != rec.Size || m.VersionID == "" || m.VersionID == "null" || m.VersionID == prev {
		return "", false
	}
	if prev == "" && !j.ownETag(ctx, rec, m.ETag) {
		return "", false
	}
	return m.VersionID, true
}

// ownETag reports whether etag, a destination version's of rec's size,
// is the one a write of rec by this restore gets: the source's ETag, or,
// for a version above the destination's part size (a multipart upload
// there), the ETag computed from rec's data in the vault with that part
// size. Reading the data again costs one more pass over it, and happens
// only after a lost answer.
func (j *job) ownETag(ctx context.Context, rec *recpoint.Record, etag string) bool {
	if rec.ETag != "" && etag == rec.ETag {
		return true
	}
	if !strings.Contains(etag, "-") || j.v == nil {
		return false
	}
	body, err := j.openData(ctx, rec)
	if err != nil {
		return false
	}
	defer body.Close()
	want, err := j.dst.UploadETag(body, rec.Size)
	return err == nil && strings.EqualFold(want, etag)
}

// putFirst writes a key's first version with If-None-Match: *; exists
// when the destination refused it because the key exists. versitygw (v1.8.0)
// also refuses it over a delete marker: a 412 for a key that a HEAD then
// finds without a current version is written without the condition.
func (j *job) putFirst(ctx context.Context, rec *recpoint.Record) (exists bool, versionID string, err error) {
	versionID, err = j.putVersion(ctx, rec, true, "")
	if !errors.Is(err, s3source.ErrPreconditionFailed) {
		return false, versionID, err
	}
	exists, herr := j.dst.ObjectExists(ctx, j.opts.DestBucket, rec.Key)
	if herr != nil || exists {
		return true, "", nil
	}
	j.log.NoteOnce("conditional-delete-marker", "the destination refuses conditional writes over delete markers: "+
		"such keys were checked again and written without the condition")
	versionID, err = j.putVersion(ctx, rec, false, "")
	return false, versionID, err
}

// ownWrite reports whether the key's current version looks like rec (same
// size, and ownETag): after a lost answer, the conditional write that was
// retried. An object of other content is someone else's.
func (j *job) ownWrite(ctx context.Context, rec *recpoint.Record) bool {
	m, exists, err := j.dst.Current(ctx, j.opts.DestBucket, rec.Key)
	return err == nil && exists && m.Size == rec.Size && j.ownETag(ctx, rec, m.ETag)
}

// openData opens a version's bytes in the vault.
func (j *job) openData(ctx context.Context, rec *recpoint.Record) (io.ReadCloser, error) {
	if rec.Data == "" {
		if rec.Size != 0 {
			return nil, &permanentError{fmt.Errorf("recovery point holds no data for this %d-byte version", rec.Size)}
		}
		return io.NopCloser(strings.NewReader("")), nil
	}
	rc, err := j.v.OpenObject(ctx, vault.ObjectID(rec.Data))
	if err != nil {
		return nil, &permanentError{fmt.Errorf("open data in vault: %w", err)}
	}
	return rc, nil
}

// putACL restores a captured ACL, best effort.
func (j *job) putACL(ctx context.Context, rec *recpoint.Record, versionID string) {
	if !j.opts.RestoreACLs || rec.ACLState != recpoint.StateCaptured || rec.ACL == nil || j.aclUnsupported.Load() {
		return
	}
	err := j.dst.PutACL(ctx, j.opts.DestBucket, rec.Key, versionID, rec.ACL)
	switch {
	case errors.Is(err, s3source.ErrNotSupported):
		j.aclUnsupported.Store(true)
		j.log.NoteOnce("acl", "the destination does not support object ACLs: ACLs were not restored")
	case err != nil:
		j.log.NoteOnceDetail("acl-error", "some ACLs could not be restored",
			fmt.Sprintf("some ACLs could not be restored, first: %q: %v", rec.Key, err))
	}
}

// permanentError marks errors that retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// transient reports whether writing again could help.
func transient(err error) bool {
	var pe *permanentError
	switch {
	case errors.As(err, &pe),
		errors.Is(err, s3source.ErrAccessDenied), errors.Is(err, s3source.ErrNoSuchBucket),
		errors.Is(err, s3source.ErrInvalidConfig), errors.Is(err, s3source.ErrNotSupported),
		errors.Is(err, s3source.ErrSizeMismatch), errors.Is(err, s3source.ErrPreconditionFailed):
		return false
	}
	return true
}
