package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/retry"
	"github.com/cofferbackup/coffer/internal/s3source"
	"github.com/cofferbackup/coffer/internal/vault"
)

// retries is how a version or delete marker is written: three attempts,
// 250 ms then 500 ms apart.
var retries = retry.Policy{Attempts: 3, Backoff: 250 * time.Millisecond}

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
func (j *job) restoreKey(ctx context.Context, recs []recpoint.Record) error {
	sel := selectVersions(recs, j.opts.VersionsUpTo)
	if len(sel) == 0 {
		return nil
	}
	key := sel[0].Key
	if !j.opts.Overwrite {
		exists, err := j.dst.ObjectExists(ctx, j.opts.DestBucket, key)
		if err != nil {
			return j.keyFailed(ctx, key, "", fmt.Errorf("check destination: %w", err))
		}
		if exists && j.opts.Resume && j.opts.NewBucket {
			j.stats.objectsResumed.Add(1)
			return nil
		}
		if exists {
			j.skip(key)
			return nil
		}
	}
	for i := range sel {
		if !sel[i].DeleteMarker {
			j.stats.totalBytes.Add(sel[i].Size)
		}
	}
	for i := range sel {
		rec := &sel[i]
		if rec.DeleteMarker {
			if err := retries.Do(ctx, func() error {
				return j.dst.PutDeleteMarker(ctx, j.opts.DestBucket, key)
			}, transient); err != nil {
				return j.keyFailed(ctx, key, rec.VersionID, fmt.Errorf("write delete marker: %w", err))
			}
			j.stats.deleteMarkersRestored.Add(1)
			continue
		}
		// Writing later versions after a failed one would reorder the
		// history, so the rest of the key is given up.
		if err := j.putVersion(ctx, rec); err != nil {
			return j.keyFailed(ctx, key, rec.VersionID, err)
		}
		j.stats.versionsRestored.Add(1)
		j.stats.bytesRestored.Add(rec.Size)
	}
	j.stats.objectsRestored.Add(1)
	return nil
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

// putVersion writes one object version with its data from the vault.
func (j *job) putVersion(ctx context.Context, rec *recpoint.Record) error {
	withTags := rec.TagsState == recpoint.StateCaptured && len(rec.Tags) > 0
	var versionID string
	err := retries.Do(ctx, func() error {
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
		versionID, err = j.dst.PutObject(ctx, j.opts.DestBucket, rec, body, withTags)
		if err != nil {
			return fmt.Errorf("write object: %w", err)
		}
		return nil
	}, transient)
	if err != nil {
		return err
	}
	j.putACL(ctx, rec, versionID)
	return nil
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
		j.log.NoteOnce("acl-error", fmt.Sprintf("some ACLs could not be restored, first: %q: %v", rec.Key, err))
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
		errors.Is(err, s3source.ErrSizeMismatch):
		return false
	}
	return true
}
