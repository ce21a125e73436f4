package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"

	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/s3source"
	"github.com/cofferbackup/coffer/internal/vault"
)

// fatalError marks an error that must fail the whole run (a vault error).
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }
func (e *fatalError) Unwrap() error { return e.err }

// capture fills it.rec, or marks it failed. It returns only fatal errors.
func (j *job) capture(ctx context.Context, it *item) error {
	v := &it.v
	if v.DeleteMarker {
		j.stats.deleteMarkers.Add(1)
		it.rec = &recpoint.Record{
			Key: v.Key, VersionID: v.VersionID, IsLatest: v.IsLatest,
			DeleteMarker: true, LastModified: v.LastModified,
		}
		return nil
	}
	j.stats.objectsScanned.Add(1)
	j.stats.bytesScanned.Add(v.Size)
	var rec *recpoint.Record
	tagCount := -1
	// The data is one step under the retry policy (its requests inside run
	// once: one loop decides); tags, ACL and lock are read after it, each
	// request under the policy of its own, so that a throttled ACL request
	// does not read the data again.
	err := j.src.Retry().Do(ctx, func(ctx context.Context) error {
		var err error
		if it.prev != nil {
			rec = j.reference(v, it.prev)
		} else {
			rec, tagCount, err = j.fetch(ctx, v)
		}
		return err
	}, transient)
	if err == nil {
		err = j.mutable(ctx, rec, tagCount, v, it.prev)
	}
	if err == nil {
		if it.prev != nil {
			j.stats.objectsDeduplicated.Add(1)
			j.stats.bytesDeduplicated.Add(v.Size)
		} else {
			j.stats.objectsTransferred.Add(1)
		}
		it.rec = rec
		return nil
	}
	if cause := context.Cause(ctx); cause != nil {
		return cause
	}
	var fe *fatalError
	if errors.As(err, &fe) {
		return fe.err
	}
	j.fail(v.Key, v.VersionID, err)
	it.failed, it.err = true, err
	return nil
}

// transient reports whether trying again could help.
func transient(err error) bool {
	var fe *fatalError
	switch {
	case errors.As(err, &fe),
		errors.Is(err, s3source.ErrNotFound), errors.Is(err, s3source.ErrAccessDenied),
		errors.Is(err, s3source.ErrNoSuchBucket), errors.Is(err, errSizeMismatch):
		return false
	}
	return true
}

var errSizeMismatch = errors.New("size differs from the listing")

// sourceReader counts the bytes read from the source and remembers a read
// error, to tell source failures from vault failures.
type sourceReader struct {
	r   io.Reader
	n   int64
	err error
	j   *job
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.n += int64(n)
	s.j.stats.bytesTransferred.Add(int64(n))
	if err != nil && !errors.Is(err, io.EOF) {
		s.err = err
	}
	return n, err
}

// fetch reads a version not captured before and stores its bytes.
// It returns the tag count GetObject gave (-1 unknown).
func (j *job) fetch(ctx context.Context, v *s3source.Version) (_ *recpoint.Record, _ int, err error) {
	release, err := j.big.Acquire(ctx, v.Size)
	if err != nil {
		return nil, 0, fmt.Errorf("wait to read a large object: %w", err)
	}
	defer release()
	body, meta, err := j.src.GetObject(ctx, j.opts.Bucket, v.Key, v.VersionID)
	if err != nil {
		return nil, 0, fmt.Errorf("get object: %w", err)
	}
	defer body.Close()
	rec := newRecord(v, &meta)
	sr := &sourceReader{r: body, j: j}
	defer func() {
		if err != nil {
			// Counted live for progress; a try that failed transferred
			// nothing to the vault (the next try reads it all again).
			j.stats.bytesTransferred.Add(-sr.n)
		}
	}()
	if v.Size > 0 {
		id, _, err := j.vw.WriteObjectSplit(ctx, sr, j.splitter())
		if err != nil {
			if sr.err != nil || ctx.Err() != nil {
				return nil, 0, fmt.Errorf("read object after %d bytes: %w", sr.n, err)
			}
			return nil, 0, &fatalError{fmt.Errorf("store object: %w", err)} // no key: this ends in the status message
		}
		rec.Data = string(id)
	} else if _, err := io.Copy(io.Discard, io.LimitReader(sr, 1)); err != nil {
		return nil, 0, fmt.Errorf("read object: %w", err)
	}
	if sr.n != v.Size {
		return nil, 0, fmt.Errorf("%w: read %d bytes, listed %d", errSizeMismatch, sr.n, v.Size)
	}
	return rec, meta.TagCount, nil
}

// splitter is the kopia splitter of new versions' data ("": the vault's).
func (j *job) splitter() string {
	if j.opts.FixedChunks {
		return vault.FixedSplitter
	}
	return ""
}

// reference reuses a version captured by the previous recovery point: its
// data and immutable metadata are kept (tags, ACL and lock are read again
// by the caller).
func (j *job) reference(v *s3source.Version, prev *recpoint.Record) *recpoint.Record {
	rec := *prev
	rec.IsLatest = v.IsLatest
	if v.StorageClass != "" {
		rec.StorageClass = v.StorageClass
	}
	return &rec
}

// newRecord builds the record of a version from its listing entry and the
// metadata GetObject returned.
func newRecord(v *s3source.Version, m *s3source.ObjectMeta) *recpoint.Record {
	rec := &recpoint.Record{
		Key: v.Key, VersionID: v.VersionID, IsLatest: v.IsLatest,
		LastModified: v.LastModified, Size: v.Size, ETag: v.ETag, StorageClass: v.StorageClass,
		ContentType: m.ContentType, ContentEncoding: m.ContentEncoding,
		ContentDisposition: m.ContentDisposition, ContentLanguage: m.ContentLanguage,
		CacheControl: m.CacheControl, Expires: m.Expires,
		UserMetadata: m.UserMetadata, Checksums: m.Checksums,
	}
	if rec.ETag == "" {
		rec.ETag = m.ETag
	}
	if rec.StorageClass == "" {
		rec.StorageClass = m.StorageClass
	}
	if rec.LastModified.IsZero() {
		rec.LastModified = m.LastModified
	}
	return rec
}

// mutable reads the parts of a version that can change without a new
// version: tags, ACL and object-lock state. tagCount is what GetObject said
// (0 skips the tagging request, -1 unknown); tags the listing showed (v.Listed)
// need no request at all. prev is the version's previous record, if it
// is unchanged: in a carrying run (ReadTagsEvery) its tags and ACL, and
// whether they could be read, are kept as the last full read found them.
func (j *job) mutable(ctx context.Context, rec *recpoint.Record, tagCount int, v *s3source.Version, prev *recpoint.Record) error {
	b := j.opts.Bucket
	carryTags := j.carry && prev != nil && j.opts.BackupTags && prev.TagsState != "" && prev.TagsState != recpoint.StateDisabled
	carryACL := j.carry && prev != nil && j.opts.BackupACLs && prev.ACLState != "" && prev.ACLState != recpoint.StateDisabled
	if !carryTags {
		rec.Tags, rec.TagsState = nil, recpoint.StateDisabled
	}
	if j.opts.BackupTags && !carryTags {
		rec.TagsState = recpoint.StateCaptured
		switch {
		case v.Listed:
			if len(v.ListedTags) > 0 {
				rec.Tags = maps.Clone(v.ListedTags)
			}
		case tagCount != 0:
			tags, err := j.src.Tags(ctx, b, rec.Key, j.subresourceVersion(rec))
			switch {
			case errors.Is(err, s3source.ErrNotSupported), errors.Is(err, s3source.ErrNotFound):
				// The data was read (or is referenced): missing tags, e.g.
				// versitygw's "null" version of a directory object, or a
				// version deleted just now, do not fail the version.
				rec.TagsState = recpoint.StateUnavailable
				j.log.NoteOnceDetail("tags", "tags of some versions could not be read",
					fmt.Sprintf("tags of some versions could not be read, first %q: %v", rec.Key, err))
			case err != nil:
				return fmt.Errorf("get tags: %w", err)
			case len(tags) > 0:
				rec.Tags = tags
			}
		}
	}
	if !carryACL {
		if err := j.acl(ctx, rec); err != nil {
			return err
		}
	}
	rec.Lock = nil
	if j.info.ObjectLock {
		lock, err := j.src.Lock(ctx, b, rec.Key, j.subresourceVersion(rec))
		if err != nil && !errors.Is(err, s3source.ErrNotSupported) {
			return fmt.Errorf("get object lock: %w", err)
		}
		rec.Lock = lock
	}
	return nil
}

// subresourceVersion is the version id to read a version's tags, ACL and
// lock with. In a bucket that was never versioned the "null" version is
// the current object, so it is asked for without a version id: versitygw
// (v1.8.0) lists such objects as "null" but answers NoSuchVersion to
// ?tagging&versionId=null, and their tags were lost.
func (j *job) subresourceVersion(rec *recpoint.Record) string {
	if rec.VersionID == "null" && j.info.Versioning == "" {
		return ""
	}
	return rec.VersionID
}

// acl captures a version's ACL, best effort: once the endpoint says it does
// not support ACLs it is not asked again during this job.
func (j *job) acl(ctx context.Context, rec *recpoint.Record) error {
	rec.ACL, rec.ACLState = nil, recpoint.StateDisabled
	if !j.opts.BackupACLs {
		return nil
	}
	rec.ACLState = recpoint.StateUnavailable
	if j.caps.ACLsFixed {
		return j.fixedACLOf(ctx, rec)
	}
	if j.aclUnsupported.Load() {
		return nil
	}
	acl, err := j.src.ACL(ctx, j.opts.Bucket, rec.Key, j.subresourceVersion(rec))
	switch {
	case errors.Is(err, s3source.ErrNotSupported):
		if j.aclUnsupported.CompareAndSwap(false, true) {
			j.log.Note("the endpoint does not support object ACLs: ACLs were not backed up")
		}
	case err != nil:
		// Some endpoints refuse ACLs of noncurrent versions (MinIO answers
		// NoSuchKey when the latest entry is a delete marker): the version
		// itself was read, so only its ACL is unavailable.
		if ctx.Err() != nil {
			return fmt.Errorf("get ACL: %w", err)
		}
	default:
		rec.ACL, rec.ACLState = acl, recpoint.StateCaptured
	}
	return nil
}

// fixedACLOf records the endpoint's one fixed ACL (caps.ACLsFixed) for
// rec: read once per run (or taken from the previous recovery point), not
// per version, since every object has it and none can have another.
func (j *job) fixedACLOf(ctx context.Context, rec *recpoint.Record) error {
	j.fixedMu.Lock()
	defer j.fixedMu.Unlock()
	if j.fixedACL == nil && !j.aclUnsupported.Load() {
		acl, err := j.src.ACL(ctx, j.opts.Bucket, rec.Key, j.subresourceVersion(rec))
		switch {
		case errors.Is(err, s3source.ErrNotSupported):
			j.aclUnsupported.Store(true)
			j.log.Note("the endpoint does not support object ACLs: ACLs were not backed up")
		case err != nil:
			if ctx.Err() != nil {
				return fmt.Errorf("get ACL: %w", err)
			}
			// This version's ACL is unavailable (e.g. a noncurrent one under
			// a delete marker); the next version asks again.
		default:
			j.fixedACL = acl
		}
	}
	if j.fixedACL != nil {
		rec.ACL, rec.ACLState = j.fixedACL, recpoint.StateCaptured
	}
	return nil
}
