package s3source

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/cofferbackup/coffer/internal/recpoint"
)

// CreateBucket creates bucket, with versioning enabled if versioned.
// ErrBucketExists if it already exists (whoever owns it).
func (c *Client) CreateBucket(ctx context.Context, bucket string, versioned bool) error {
	tries := 0
	err := c.do(ctx, func(ctx context.Context) error {
		tries++
		err := c.mc.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: c.cfg.Region})
		if tries > 1 && s3Code(err) == "BucketAlreadyOwnedByYou" {
			return nil // made by the try whose answer was lost
		}
		return err
	})
	if err != nil {
		return wrapErr("create bucket", bucket, "", "", err)
	}
	if versioned {
		return c.EnableVersioning(ctx, bucket)
	}
	return nil
}

// EnableVersioning turns versioning on for bucket; it is idempotent.
func (c *Client) EnableVersioning(ctx context.Context, bucket string) error {
	if err := c.do(ctx, func(ctx context.Context) error { return c.mc.EnableVersioning(ctx, bucket) }); err != nil {
		return wrapErr("enable versioning", bucket, "", "", err)
	}
	return nil
}

// ObjectExists reports whether key has a current (non-delete-marker) version.
func (c *Client) ObjectExists(ctx context.Context, bucket, key string) (bool, error) {
	_, exists, err := c.Current(ctx, bucket, key)
	return exists, err
}

// Current returns the size, ETag and version id of key's current version
// (HEAD), and false if it has none (no such key, or a delete marker).
func (c *Client) Current(ctx context.Context, bucket, key string) (ObjectMeta, bool, error) {
	var info minio.ObjectInfo
	err := c.do(ctx, func(ctx context.Context) error {
		var err error
		info, err = c.mc.StatObject(ctx, bucket, key, minio.StatObjectOptions{})
		if err != nil && info.IsDeleteMarker {
			return nil
		}
		return err
	})
	if err == nil {
		if info.IsDeleteMarker {
			return ObjectMeta{}, false, nil
		}
		return ObjectMeta{ETag: trimETag(info.ETag), Size: info.Size, LastModified: info.LastModified.UTC(), VersionID: info.VersionID}, true, nil
	}
	code, kind := classify(err)
	if kind == ErrNotFound || code == "MethodNotAllowed" {
		return ObjectMeta{}, false, nil
	}
	return ObjectMeta{}, false, wrapErr("head object", bucket, key, "", err)
}

// Latest returns the newest entry of key's version listing, a version or
// a delete marker (whose version id a HEAD does not always give); false if
// the key has none.
func (c *Client) Latest(ctx context.Context, bucket, key string) (Version, bool, error) {
	vs, err := c.KeyVersions(ctx, bucket, key, 1)
	if err != nil || len(vs) == 0 {
		return Version{}, false, err
	}
	return vs[0], true, nil
}

// errEnough stops a key's listing once it has what was asked for.
var errEnough = errors.New("enough versions listed")

// KeyVersions returns up to max entries of key's version listing
// (versions and delete markers), newest first. It lists through the
// bucket listing's own decoder, so the entries come in true history order
// on endpoints that list them otherwise (versitygw lists a key's delete
// markers before its versions).
func (c *Client) KeyVersions(ctx context.Context, bucket, key string, max int) ([]Version, error) {
	var out []Version
	l := &lister{c: c, bucket: bucket, prefix: key, maxKeys: c.pageSize, fn: func(v Version) error {
		if v.Key != key { // key sorts before every other key it prefixes
			return errEnough
		}
		out = append(out, v)
		if len(out) == max {
			return errEnough
		}
		return nil
	}}
	if err := l.run(ctx); err != nil && !errors.Is(err, errEnough) {
		return nil, err // wrapped by the lister
	}
	return out, nil
}

// PutObject writes a new object (version) with the record's metadata and
// tags, streaming r (size bytes), using multipart uploads above PartSize.
// It holds at most 2*PartSize bytes of r in memory. It tries once (a stream
// cannot be sent again): the caller retries with a new reader, under
// Retry().
func (c *Client) PutObject(ctx context.Context, bucket string, rec *recpoint.Record, r io.Reader, withTags bool) (versionID string, err error) {
	return c.putObject(ctx, bucket, rec, r, withTags, false)
}

// PutObjectIfAbsent is PutObject with If-None-Match: * on the PUT (and on
// CreateMultipartUpload and CompleteMultipartUpload): an endpoint that
// honours it (see ConditionalWrites) refuses, with ErrPreconditionFailed,
// to write over a key that has a current version, atomically.
func (c *Client) PutObjectIfAbsent(ctx context.Context, bucket string, rec *recpoint.Record, r io.Reader, withTags bool) (versionID string, err error) {
	return c.putObject(ctx, bucket, rec, r, withTags, true)
}

func (c *Client) putObject(ctx context.Context, bucket string, rec *recpoint.Record, r io.Reader, withTags, ifAbsent bool) (versionID string, err error) {
	if rec.Size < 0 {
		return "", fmt.Errorf("s3source: put object %s/%q: negative size %d", bucket, rec.Key, rec.Size)
	}
	opts := putOptions(rec, withTags, c.cfg.PartSize)
	if ifAbsent {
		opts.SetMatchETagExcept("*")
		// minio-go drops custom headers from CompleteMultipartUpload,
		// where the condition must be checked: the transport adds it.
		ctx = context.WithValue(ctx, ifAbsentKey{}, true)
	}
	// A plain reader that fails on a short or long stream: minio-go then
	// buffers parts itself (bounded by opts) instead of using ReadAt, and
	// never stores a truncated object.
	body := &exactReader{r: r, left: rec.Size}
	info, err := c.mc.PutObject(ctx, bucket, rec.Key, body, rec.Size, opts)
	if err != nil {
		return "", wrapErr("put object", bucket, rec.Key, "", err)
	}
	if err := body.atEOF(); err != nil {
		// A single-part upload reads exactly Size bytes; more data means
		// the record and its data disagree: take the version back.
		rmErr := c.mc.RemoveObject(ctx, bucket, rec.Key, minio.RemoveObjectOptions{VersionID: info.VersionID})
		return "", wrapErr("put object", bucket, rec.Key, info.VersionID, errors.Join(err, rmErr))
	}
	if info.Size != rec.Size {
		return "", wrapErr("put object", bucket, rec.Key, info.VersionID,
			fmt.Errorf("stored %d bytes, want %d", info.Size, rec.Size))
	}
	return info.VersionID, nil
}

// putOptions maps a record's metadata to minio-go upload options.
func putOptions(rec *recpoint.Record, withTags bool, partSize uint64) minio.PutObjectOptions {
	opts := minio.PutObjectOptions{
		ContentType:           rec.ContentType,
		ContentEncoding:       rec.ContentEncoding,
		ContentDisposition:    rec.ContentDisposition,
		ContentLanguage:       rec.ContentLanguage,
		CacheControl:          rec.CacheControl,
		PartSize:              partSize,
		NumThreads:            putThreads,
		ConcurrentStreamParts: true,
		// Content-MD5 instead of a streamed (aws-chunked) payload
		// signature: the endpoint still verifies every byte, AWS requires
		// it for uploads into object-lock buckets, and versitygw with
		// --keep-alive misparses the end of aws-chunked bodies (stray 400
		// answers on the reused connection). Parts are buffered anyway.
		SendContentMd5:       true,
		DisableContentSha256: true,
	}
	if opts.ContentType == "" {
		// minio-go would guess one from the key's extension.
		opts.ContentType = "application/octet-stream"
	}
	if rec.Expires != "" {
		if t, err := http.ParseTime(rec.Expires); err == nil {
			opts.Expires = t
		}
	}
	if len(rec.UserMetadata) > 0 {
		opts.UserMetadata = make(map[string]string, len(rec.UserMetadata))
		for k, v := range rec.UserMetadata {
			// Prefixed here so minio-go never mistakes a user key such as
			// "content-type" for a system header.
			opts.UserMetadata["x-amz-meta-"+strings.ToLower(k)] = v
		}
	}
	if sc := rec.StorageClass; sc != "" && sc != "STANDARD" {
		opts.StorageClass = sc
	}
	if withTags && len(rec.Tags) > 0 {
		opts.UserTags = rec.Tags
	}
	return opts
}

// exactReader passes through exactly left bytes of r; it fails if r ends
// early or has more.
//
// It is also an io.Seeker that can only "rewind" before the first read:
// minio-go retries a failed single-part upload after seeking its body back
// to the start, and takes any reader as seekable. A stream cannot rewind,
// so the retry must fail rather than send the rest of the stream.
type exactReader struct {
	r       io.Reader
	left    int64
	read    int64
	lastErr error
}

var errNoRewind = errors.New("restore stream cannot be rewound for a retry")

// Seek allows only a no-op rewind to the start.
func (e *exactReader) Seek(offset int64, whence int) (int64, error) {
	if offset == 0 && (whence == io.SeekStart || whence == io.SeekCurrent) && e.read == 0 {
		return 0, nil
	}
	if e.lastErr != nil {
		return 0, fmt.Errorf("%w after %d bytes: %w", errNoRewind, e.read, e.lastErr)
	}
	return 0, fmt.Errorf("%w after %d bytes were sent", errNoRewind, e.read)
}

// ErrSizeMismatch is returned (wrapped) by PutObject when the stream is
// shorter or longer than the record's size; nothing is stored then.
var ErrSizeMismatch = errors.New("data size does not match the record")

// atEOF reports an error unless the stream was read to its exact end.
func (e *exactReader) atEOF() error {
	if e.left > 0 {
		return fmt.Errorf("%w: %d bytes not read", ErrSizeMismatch, e.left)
	}
	_, err := e.read1(make([]byte, 1))
	if err == io.EOF {
		return nil
	}
	return err
}

func (e *exactReader) Read(p []byte) (int, error) {
	n, err := e.read1(p)
	e.read += int64(n)
	if err != nil && err != io.EOF {
		e.lastErr = err
	}
	return n, err
}

func (e *exactReader) read1(p []byte) (int, error) {
	if e.left <= 0 {
		var one [1]byte
		n, err := io.ReadFull(e.r, one[:])
		if n > 0 {
			return 0, fmt.Errorf("%w: more data than expected", ErrSizeMismatch)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return 0, io.EOF
		}
		return 0, err
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if err == io.EOF {
		if e.left > 0 {
			return n, fmt.Errorf("%w: %d bytes missing", ErrSizeMismatch, e.left)
		}
		if n > 0 {
			err = nil
		}
	}
	return n, err
}

// PutDeleteMarker deletes the current version of key, which on a versioned
// bucket adds a delete marker, and returns the marker's version id (as the
// endpoint answered it; "" or "null" where it has none).
func (c *Client) PutDeleteMarker(ctx context.Context, bucket, key string) (versionID string, err error) {
	// A raw DELETE: minio-go's RemoveObject drops the answer's
	// x-amz-version-id, which a restore needs to recognise its own marker
	// after a lost answer.
	err = c.do(ctx, func(ctx context.Context) error {
		resp, err := c.rawDo(ctx, http.MethodDelete, bucket, key, nil, nil)
		if err != nil {
			return err
		}
		defer func() { _ = resp.Body.Close() }()
		if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, maxSmallBody)); err != nil {
			return err
		}
		versionID = resp.Header.Get("X-Amz-Version-Id")
		return nil
	})
	if err != nil {
		return "", wrapErr("delete object", bucket, key, "", err)
	}
	return versionID, nil
}

// UploadETag returns the ETag that PutObject of r (size bytes) by this
// client gets from an endpoint following S3: the data's MD5 for a single
// PUT (size up to PartSize), and for a multipart upload the MD5 of its
// parts' MD5s and "-" and the part count (minio-go sends parts of exactly
// PartSize bytes, the last one shorter). A restore compares it with the
// key's current version after a lost answer to tell its own multipart
// write from another writer's.
func (c *Client) UploadETag(r io.Reader, size int64) (string, error) {
	part := int64(c.cfg.PartSize)
	sums := md5.New()
	parts := 0
	for left := size; ; {
		n := min(left, part)
		h := md5.New()
		if _, err := io.CopyN(h, r, n); err != nil {
			return "", fmt.Errorf("s3source: upload etag: read %d bytes: %w", n, err)
		}
		if size <= part {
			return hex.EncodeToString(h.Sum(nil)), nil
		}
		sums.Write(h.Sum(nil))
		parts++
		if left -= n; left == 0 {
			return fmt.Sprintf("%s-%d", hex.EncodeToString(sums.Sum(nil)), parts), nil
		}
	}
}
