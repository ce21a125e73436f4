package s3source

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/tags"

	"github.com/cofferbackup/coffer/internal/recpoint"
)

// checksumHeaders maps response headers to the names of
// recpoint.Record.Checksums.
var checksumHeaders = []struct{ header, name string }{
	{"X-Amz-Checksum-Crc32", "CRC32"},
	{"X-Amz-Checksum-Crc32c", "CRC32C"},
	{"X-Amz-Checksum-Sha1", "SHA1"},
	{"X-Amz-Checksum-Sha256", "SHA256"},
	{"X-Amz-Checksum-Crc64nvme", "CRC64NVME"},
}

// versionParam is the versionId to send for a listed version id. "null"
// is sent as is: S3 reads the null version with it, which is not the
// current version once versioning was enabled after the object was
// written.
func versionParam(versionID string) string { return versionID }

// GetObject opens one version for streaming. versionID "" or "null" reads
// the unversioned object. The request is made before GetObject returns, so
// errors (ErrNotFound, ErrNoSuchBucket, ErrAccessDenied) come from here,
// not from the first Read.
func (c *Client) GetObject(ctx context.Context, bucket, key, versionID string) (io.ReadCloser, ObjectMeta, error) {
	opts := minio.GetObjectOptions{VersionID: versionParam(versionID), Checksum: true}
	body, info, h, err := c.core.GetObject(ctx, bucket, key, opts)
	if err != nil {
		return nil, ObjectMeta{}, wrapErr("get object", bucket, key, versionID, err)
	}
	meta := metaFromHeader(h)
	meta.Size = info.Size
	meta.LastModified = info.LastModified.UTC()
	if meta.ETag == "" {
		meta.ETag = trimETag(info.ETag)
	}
	return body, meta, nil
}

// metaFromHeader reads an object's metadata from GET/HEAD response headers.
func metaFromHeader(h http.Header) ObjectMeta {
	m := ObjectMeta{
		ETag:               trimETag(h.Get("ETag")),
		StorageClass:       h.Get("X-Amz-Storage-Class"),
		ContentType:        h.Get("Content-Type"),
		ContentEncoding:    h.Get("Content-Encoding"),
		ContentDisposition: h.Get("Content-Disposition"),
		ContentLanguage:    h.Get("Content-Language"),
		CacheControl:       h.Get("Cache-Control"),
		Expires:            h.Get("Expires"),
		TagCount:           -1,
	}
	if t, err := http.ParseTime(h.Get("Last-Modified")); err == nil {
		m.LastModified = t.UTC()
	}
	if n, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64); err == nil {
		m.Size = n
	}
	if s := h.Get("X-Amz-Tagging-Count"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			m.TagCount = n
		}
	}
	for k, vs := range h {
		lk := strings.ToLower(k)
		if name, ok := strings.CutPrefix(lk, "x-amz-meta-"); ok && name != "" {
			if m.UserMetadata == nil {
				m.UserMetadata = make(map[string]string)
			}
			m.UserMetadata[name] = strings.Join(vs, ",")
		}
	}
	for _, ch := range checksumHeaders {
		if v := h.Get(ch.header); v != "" {
			if m.Checksums == nil {
				m.Checksums = make(map[string]string)
			}
			m.Checksums[ch.name] = v
		}
	}
	return m
}

// Tags returns a version's tags (an empty map if it has none).
func (c *Client) Tags(ctx context.Context, bucket, key, versionID string) (map[string]string, error) {
	t, err := c.mc.GetObjectTagging(ctx, bucket, key, minio.GetObjectTaggingOptions{VersionID: versionParam(versionID)})
	if err != nil {
		return nil, wrapErr("get object tagging", bucket, key, versionID, err)
	}
	return tagMap(t), nil
}

func tagMap(t *tags.Tags) map[string]string {
	if t == nil {
		return map[string]string{}
	}
	m := t.ToMap()
	if m == nil {
		m = map[string]string{}
	}
	return m
}

// Lock returns a version's retention and legal hold; nil if it has neither
// (or the bucket has no object lock, or the endpoint does not support it).
func (c *Client) Lock(ctx context.Context, bucket, key, versionID string) (*recpoint.Lock, error) {
	vid := versionParam(versionID)
	var lock recpoint.Lock
	mode, until, err := c.mc.GetObjectRetention(ctx, bucket, key, vid)
	switch {
	case err == nil:
		if mode != nil && mode.IsValid() {
			lock.Mode = string(*mode)
		}
		if until != nil && !until.IsZero() {
			t := until.UTC()
			lock.RetainUntil = &t
		}
	case isAbsentConfig(err):
	default:
		return nil, wrapErr("get object retention", bucket, key, versionID, err)
	}
	hold, err := c.mc.GetObjectLegalHold(ctx, bucket, key, minio.GetObjectLegalHoldOptions{VersionID: vid})
	switch {
	case err == nil:
		lock.LegalHold = hold != nil && *hold == minio.LegalHoldEnabled
	case isAbsentConfig(err):
	default:
		return nil, wrapErr("get object legal hold", bucket, key, versionID, err)
	}
	if lock.Mode == "" && lock.RetainUntil == nil && !lock.LegalHold {
		return nil, nil
	}
	return &lock, nil
}
