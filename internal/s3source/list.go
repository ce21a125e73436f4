package s3source

import (
	"context"
	"errors"
	"fmt"

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
	v, err := c.mc.GetBucketVersioning(ctx, bucket)
	if err != nil {
		if _, kind := classify(err); kind != ErrNotSupported {
			return BucketInfo{}, wrapErr("get bucket versioning", bucket, "", "", err)
		}
		// An endpoint without versioning support has no versions.
	}
	info := BucketInfo{Versioning: v.Status}
	lock, _, _, _, err := c.mc.GetObjectLockConfig(ctx, bucket)
	switch {
	case err == nil:
		info.ObjectLock = lock == "Enabled"
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
// been versioned it lists current objects with VersionID "null".
func (c *Client) ListVersions(ctx context.Context, bucket string, fn func(Version) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		chk     orderCheck
		n       int
		fnErr   error
		listErr error
	)
	opts := minio.ListObjectsOptions{WithVersions: true, Recursive: true, MaxKeys: c.pageSize}
	for obj := range c.mc.ListObjectsIter(ctx, bucket, opts) {
		if obj.Err != nil {
			listErr = obj.Err
			break
		}
		v := toVersion(obj)
		if err := chk.next(v); err != nil {
			return wrapErr("list versions", bucket, v.Key, v.VersionID, err)
		}
		n++
		if fnErr = fn(v); fnErr != nil {
			return fnErr
		}
	}
	if listErr != nil {
		if _, kind := classify(listErr); kind == ErrNotSupported && n == 0 {
			return c.listCurrent(ctx, bucket, fn)
		}
		return wrapErr("list versions", bucket, "", "", listErr)
	}
	// minio-go's iterator ends silently when ctx is done; a cut-short
	// listing must never pass for a complete one.
	if err := ctx.Err(); err != nil {
		return wrapErr("list versions", bucket, "", "", err)
	}
	if n == 0 {
		// An endpoint that ignores ?versions answers with a plain listing
		// that parses as no versions at all; check before trusting it.
		return c.listCurrentIfAny(ctx, bucket, fn)
	}
	return nil
}

// listCurrentIfAny lists current objects if the bucket has any.
func (c *Client) listCurrentIfAny(ctx context.Context, bucket string, fn func(Version) error) error {
	res, err := c.core.ListObjectsV2(bucket, "", "", "", "", 1)
	if err != nil {
		return wrapErr("list objects", bucket, "", "", err)
	}
	if len(res.Contents) == 0 {
		return nil
	}
	return c.listCurrent(ctx, bucket, fn)
}

// listCurrent lists current objects (ListObjectsV2), for endpoints
// without ListObjectVersions; every object gets VersionID "null".
func (c *Client) listCurrent(ctx context.Context, bucket string, fn func(Version) error) error {
	var chk orderCheck
	opts := minio.ListObjectsOptions{Recursive: true, MaxKeys: c.pageSize}
	for obj := range c.mc.ListObjectsIter(ctx, bucket, opts) {
		if obj.Err != nil {
			return wrapErr("list objects", bucket, "", "", obj.Err)
		}
		v := toVersion(obj)
		v.VersionID = nullVersion
		v.IsLatest = true
		if err := chk.next(v); err != nil {
			return wrapErr("list objects", bucket, v.Key, "", err)
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return wrapErr("list objects", bucket, "", "", err)
	}
	return nil
}

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

// orderCheck verifies that keys never decrease and that no version of a
// key is listed twice.
type orderCheck struct {
	started bool
	key     string
	seen    map[string]struct{} // version ids of key
}

func (o *orderCheck) next(v Version) error {
	switch {
	case !o.started || v.Key > o.key:
		o.started = true
		o.key = v.Key
		clear(o.seen)
	case v.Key < o.key:
		return fmt.Errorf("%w: key %q after %q", errListOrder, v.Key, o.key)
	}
	if o.seen == nil {
		o.seen = make(map[string]struct{})
	}
	if _, dup := o.seen[v.VersionID]; dup {
		return fmt.Errorf("%w: version %s of %q listed twice", errListOrder, v.VersionID, v.Key)
	}
	o.seen[v.VersionID] = struct{}{}
	return nil
}

func trimETag(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}
