package restore

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"

	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/s3source"
)

// In-place rollback: the destination is the recovery point's own bucket,
// versioned, and afterwards each key's current state is the recovery
// point's (its first record: the newest version, absent if that is a
// delete marker). The state and the bucket's listing are merge-joined
// (mergeDest) and each key compared:
//
//   - current now, absent in the state: a delete marker goes on top;
//   - in the state, absent or different now: the state's version is
//     written again from the vault, as a new current version;
//   - equal (size, ETag, metadata, tags as recorded): untouched.
//
// No version is ever deleted, so a rollback is undone by rolling back to
// a recovery point taken before it, and a run that died is resumed by
// running again: it compares again and writes only what still differs.

// rollbackDest checks that the bucket can be rolled back.
func rollbackDest(bucket string, info s3source.BucketInfo) error {
	if info.Versioning != "Enabled" {
		return fmt.Errorf("bucket %q is not versioned (versioning %q): a rollback writes new versions and delete markers "+
			"and keeps every version, which needs versioning enabled", bucket, info.Versioning)
	}
	return nil
}

// keyPair is one key of the merge: its state records and the
// destination's newest entry.
type keyPair struct {
	recs []recpoint.Record
	cur  *s3source.Version
}

// rollback merges the state with the bucket's listing and hands the keys
// to Options.Parallelism workers (rollbackKey).
func (j *job) rollback(ctx context.Context, rd *recpoint.Reader, match *matcher) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	keys := make(chan keyPair, j.opts.Parallelism)
	var wg sync.WaitGroup
	for range j.opts.Parallelism {
		wg.Go(func() {
			for p := range keys {
				if err := j.rollbackKey(ctx, p.recs, p.cur); err != nil {
					cancel(err)
				}
			}
		})
	}
	it := &keyIter{rd: rd, keep: 1, match: match.match}
	mergeErr := mergeDest(ctx, j.dst, j.opts.DestBucket, true, it, func(recs []recpoint.Record, cur *s3source.Version) error {
		select {
		case keys <- keyPair{recs, cur}:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	})
	close(keys)
	wg.Wait()
	if cause := context.Cause(ctx); cause != nil {
		return cause
	}
	return mergeErr
}

// rollbackKey brings one key to its state (recs[0], absent if recs is
// empty or that is a delete marker) from its current entry cur; in a
// preview (j.plan set) it only says what it would do. It records per-key
// failures itself and returns only errors that must stop the run.
func (j *job) rollbackKey(ctx context.Context, recs []recpoint.Record, cur *s3source.Version) error {
	var want *recpoint.Record
	if len(recs) > 0 && !recs[0].DeleteMarker {
		want = &recs[0]
	}
	var have *s3source.Version
	if cur != nil && !cur.DeleteMarker {
		have = cur
	}
	switch {
	case want == nil && have == nil:
		return nil
	case want == nil:
		if j.plan != nil {
			j.plan.add(classDeleteMark, have.Key, 0, 1, 0)
			return nil
		}
		if _, err := j.putDeleteMarker(ctx, have.Key, have.VersionID); err != nil {
			return j.keyFailed(ctx, have.Key, "", fmt.Errorf("write delete marker: %w", err))
		}
		j.stats.deleteMarkersRestored.Add(1)
		return nil
	case have != nil:
		same, err := j.sameState(ctx, want, have)
		if err != nil {
			return j.keyFailed(ctx, want.Key, have.VersionID, fmt.Errorf("compare with the current version: %w", err))
		}
		if same {
			if j.plan != nil {
				j.plan.add(classUnchanged, want.Key, 0, 0, 0)
				return nil
			}
			j.stats.objectsUnchanged.Add(1)
			return nil
		}
	}
	if j.plan != nil {
		j.plan.add(classWrite, want.Key, 1, 0, want.Size)
		return nil
	}
	prev := "" // the version a lost answer's write would have gone on top of
	if have != nil {
		prev = have.VersionID
	}
	j.stats.totalBytes.Add(want.Size)
	if _, err := j.putVersion(ctx, want, false, prev); err != nil {
		return j.keyFailed(ctx, want.Key, want.VersionID, err)
	}
	j.stats.versionsRestored.Add(1)
	j.stats.bytesRestored.Add(want.Size)
	j.stats.objectsRestored.Add(1)
	return nil
}

// sameState reports whether the current version have equals the recorded
// version want: data (size and ETag), metadata and, where the recovery
// point captured them, tags. Metadata is read even when the version id is
// the recorded one: versitygw (v1.8.0) changes a version's metadata in
// place on a copy onto itself.
func (j *job) sameState(ctx context.Context, want *recpoint.Record, have *s3source.Version) (bool, error) {
	if want.Size != have.Size {
		return false, nil
	}
	if want.ETag != have.ETag {
		same, err := j.sameData(ctx, want, have)
		if err != nil || !same {
			return false, err
		}
	}
	m, err := j.dst.Head(ctx, j.opts.DestBucket, have.Key, have.VersionID)
	if err != nil {
		return false, err
	}
	if m.Size != want.Size || !sameMetadata(want, &m) {
		return false, nil
	}
	if want.TagsState != recpoint.StateCaptured || (m.TagCount == 0 && len(want.Tags) == 0) {
		return true, nil
	}
	tags, err := j.dst.Tags(ctx, j.opts.DestBucket, have.Key, have.VersionID)
	if err != nil {
		return false, err
	}
	return maps.Equal(tags, want.Tags), nil
}

// sameData compares the data of two versions of one size whose ETags
// differ. That is a difference, unless have was uploaded in parts (an
// ETag "md5-of-part-md5s-N", as a restore writes versions above its part
// size) and want's ETag is a plain MD5: then have's data is read and
// hashed, so that a large key a rollback wrote compares equal to its
// recorded version the next time. Two multipart ETags of unknown part
// sizes cannot be compared: have's is compared with the ETag this
// restore's own upload of want's data gets (ownETag), which is what an
// earlier rollback wrote.
func (j *job) sameData(ctx context.Context, want *recpoint.Record, have *s3source.Version) (bool, error) {
	if !strings.Contains(have.ETag, "-") {
		return false, nil
	}
	if !plainMD5(want.ETag) {
		return j.ownETag(ctx, want, have.ETag), nil
	}
	body, _, err := j.dst.GetObject(ctx, j.opts.DestBucket, have.Key, have.VersionID)
	if err != nil {
		return false, err
	}
	defer body.Close()
	h := md5.New()
	if _, err := io.Copy(h, body); err != nil {
		return false, fmt.Errorf("read the current version: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)) == strings.ToLower(want.ETag), nil
}

// plainMD5 reports whether an ETag is a hex MD5 (a single-part upload).
func plainMD5(etag string) bool {
	if len(etag) != 2*md5.Size {
		return false
	}
	_, err := hex.DecodeString(etag)
	return err == nil
}

// sameMetadata compares the metadata a restore writes (putOptions) with
// what a HEAD read: a version written without a Content-Type gets
// application/octet-stream.
func sameMetadata(rec *recpoint.Record, m *s3source.ObjectMeta) bool {
	ct := func(s string) string {
		if s == "" {
			return "application/octet-stream"
		}
		return s
	}
	if ct(rec.ContentType) != ct(m.ContentType) || rec.ContentEncoding != m.ContentEncoding ||
		rec.ContentDisposition != m.ContentDisposition || rec.ContentLanguage != m.ContentLanguage ||
		rec.CacheControl != m.CacheControl || !sameExpires(rec.Expires, m.Expires) {
		return false
	}
	if len(rec.UserMetadata) != len(m.UserMetadata) {
		return false
	}
	for k, v := range rec.UserMetadata {
		if mv, ok := m.UserMetadata[strings.ToLower(k)]; !ok || mv != v {
			return false
		}
	}
	return true
}

// sameExpires compares two Expires headers as times when both parse.
func sameExpires(a, b string) bool {
	if a == b {
		return true
	}
	ta, ea := http.ParseTime(a)
	tb, eb := http.ParseTime(b)
	return ea == nil && eb == nil && ta.Equal(tb)
}
