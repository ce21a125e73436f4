package s3source

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/minio/minio-go/v7"
)

// nullVersion is the version id S3 gives objects written while versioning
// was off.
const nullVersion = "null"

// errListOrder reports a listing that went backwards or repeated itself:
// a buggy endpoint or paging; never trust such a listing.
var errListOrder = errors.New("listing out of order")

// Bucket returns facts about a bucket; ErrNoSuchBucket if it does not exist.
func (c *Client) Bucket(ctx context.Context, bucket string) (BucketInfo, error) {
	var v minio.BucketVersioningConfiguration
	err := c.do(ctx, func(ctx context.Context) error {
		var err error
		v, err = c.mc.GetBucketVersioning(ctx, bucket)
		return err
	})
	if err != nil {
		if _, kind := classify(err); kind != ErrNotSupported {
			return BucketInfo{}, wrapErr("get bucket versioning", bucket, "", "", err)
		}
		// An endpoint without versioning support has no versions.
	}
	info := BucketInfo{Versioning: v.Status}
	var lock string
	var mode *minio.RetentionMode
	err = c.do(ctx, func(ctx context.Context) error {
		var err error
		lock, mode, _, _, err = c.mc.GetObjectLockConfig(ctx, bucket)
		return err
	})
	switch {
	case err == nil:
		info.ObjectLock = lock == "Enabled"
		if mode != nil {
			info.ObjectLockMode = string(*mode)
		}
	case isAbsentConfig(err):
	default:
		return BucketInfo{}, wrapErr("get object lock configuration", bucket, "", "", err)
	}
	return info, nil
}

// isAbsentConfig reports errors meaning "no such configuration here",
// including endpoints that do not implement the call at all.
func isAbsentConfig(err error) bool {
	if _, kind := classify(err); kind == ErrNotSupported {
		return true
	}
	switch s3Code(err) {
	case "ObjectLockConfigurationNotFoundError", "NoSuchObjectLockConfiguration",
		"ObjectLockConfigurationNotFound", "InvalidRequest", "MethodNotAllowed":
		return true
	}
	return false
}

// ListVersions streams every version and delete marker of bucket in listing
// order (keys ascending, versions of a key newest first), calling fn for
// each. It holds at most one listing page in memory. If the bucket has never
// been versioned it lists current objects with VersionID "null". An error
// of fn is returned as is.
func (c *Client) ListVersions(ctx context.Context, bucket string, fn func(Version) error) error {
	l := &lister{c: c, bucket: bucket, fn: fn, maxKeys: c.pageSize}
	return l.run(ctx)
}

// ListVersionsWithMetadata is ListVersions asking for MinIO's metadata
// listing (metadata=true): versions the endpoint lists with their
// metadata come with Listed set and their tags. Other endpoints ignore
// the parameter; their versions come without Listed.
func (c *Client) ListVersionsWithMetadata(ctx context.Context, bucket string, fn func(Version) error) error {
	l := &lister{c: c, bucket: bucket, fn: fn, maxKeys: c.pageSize, meta: true}
	return l.run(ctx)
}

func entryVersion(e listEntry) (Version, error) {
	vid := e.VersionID
	if vid == "" {
		vid = nullVersion
	}
	v := Version{
		Key:          e.Key,
		VersionID:    vid,
		IsLatest:     e.IsLatest,
		DeleteMarker: e.DeleteMarker,
		LastModified: e.LastModified.UTC(),
		StorageClass: e.StorageClass,
	}
	if !e.DeleteMarker {
		v.Size = e.Size
		v.ETag = trimETag(e.ETag)
	}
	if e.UserMetadata != nil && !e.DeleteMarker {
		tags, err := parseListedTags(e.UserTags)
		if err != nil {
			return Version{}, err
		}
		v.Listed, v.ListedTags = true, tags
	}
	return v, nil
}

// parseListedTags decodes MinIO's UserTags ("k=v&k2=v2", query-encoded).
func parseListedTags(s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	q, err := url.ParseQuery(s)
	if err != nil {
		return nil, fmt.Errorf("listed tags %q: %w", s, err)
	}
	tags := make(map[string]string, len(q))
	for k, vs := range q {
		tags[k] = vs[0]
	}
	return tags, nil
}

// listCurrent lists current objects (ListObjectsV2) whose keys begin
// with prefix, for endpoints without ListObjectVersions; every object gets
// VersionID "null". A
// listing that fails midway resumes after the last key listed.
func (c *Client) listCurrent(ctx context.Context, bucket, prefix string, fn func(Version) error) error {
	var chk orderCheck
	last := ""
	err := c.do(ctx, func(ctx context.Context) error {
		opts := minio.ListObjectsOptions{Prefix: prefix, Recursive: true, MaxKeys: c.pageSize, StartAfter: last}
		for obj := range c.mc.ListObjectsIter(ctx, bucket, opts) {
			if obj.Err != nil {
				return obj.Err
			}
			v := toVersion(obj)
			v.VersionID = nullVersion
			v.IsLatest = true
			dup, err := chk.next(v)
			if err != nil {
				return wrapErr("list objects", bucket, v.Key, "", err)
			}
			if dup {
				continue
			}
			if err := fn(v); err != nil {
				return &callerError{err}
			}
			last = v.Key
		}
		return ctx.Err()
	})
	var ce *callerError
	if errors.As(err, &ce) {
		return ce.err
	}
	if err != nil {
		return wrapErr("list objects", bucket, "", "", err)
	}
	return nil
}

// callerError carries an error of the caller's function through a retry
// loop, which must not retry it.
type callerError struct{ err error }

func (e *callerError) Error() string { return e.err.Error() }

func toVersion(o minio.ObjectInfo) Version {
	vid := o.VersionID
	if vid == "" {
		vid = nullVersion
	}
	return Version{
		Key:          o.Key,
		VersionID:    vid,
		IsLatest:     o.IsLatest,
		DeleteMarker: o.IsDeleteMarker,
		LastModified: o.LastModified.UTC(),
		Size:         o.Size,
		ETag:         trimETag(o.ETag),
		StorageClass: o.StorageClass,
	}
}

// orderCheck verifies that keys never decrease and reports versions of a
// key listed again (which some endpoints do across pages) as duplicates.
type orderCheck struct {
	started bool
	key     string
	seen    map[string]struct{} // version ids of key
}

func (o *orderCheck) next(v Version) (dup bool, err error) {
	switch {
	case !o.started || v.Key > o.key:
		o.started = true
		o.key = v.Key
		clear(o.seen)
	case v.Key < o.key:
		return false, fmt.Errorf("%w: key %q after %q", errListOrder, v.Key, o.key)
	}
	if o.seen == nil {
		o.seen = make(map[string]struct{})
	}
	if _, dup := o.seen[v.VersionID]; dup {
		return true, nil
	}
	o.seen[v.VersionID] = struct{}{}
	return false, nil
}

func trimETag(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}
