package s3source

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

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
	var (
		body io.ReadCloser
		info minio.ObjectInfo
		h    http.Header
	)
	// Only opening is retried here; a body that fails midway is the
	// caller's to read again.
	err := c.do(ctx, func(ctx context.Context) error {
		var err error
		body, info, h, err = c.core.GetObject(ctx, bucket, key, opts)
		return err
	})
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
	var t *tags.Tags
	err := c.do(ctx, func(ctx context.Context) error {
		var err error
		t, err = c.mc.GetObjectTagging(ctx, bucket, key, minio.GetObjectTaggingOptions{VersionID: versionParam(versionID)})
		return err
	})
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
// It costs two requests; callers can skip it for buckets whose BucketInfo
// says ObjectLock is false.
//
// The answers are parsed here, leniently: versitygw names the retention
// document's root element ObjectLockRetention, which minio-go refuses.
func (c *Client) Lock(ctx context.Context, bucket, key, versionID string) (*recpoint.Lock, error) {
	var lock recpoint.Lock
	var ret struct {
		Mode            string `xml:"Mode"`
		RetainUntilDate string `xml:"RetainUntilDate"`
	}
	found, err := c.getSubresource(ctx, bucket, key, versionID, "retention", &ret)
	if err != nil {
		return nil, wrapErr("get object retention", bucket, key, versionID, err)
	}
	if found {
		lock.Mode = strings.ToUpper(strings.TrimSpace(ret.Mode))
		if s := strings.TrimSpace(ret.RetainUntilDate); s != "" {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return nil, wrapErr("get object retention", bucket, key, versionID, fmt.Errorf("RetainUntilDate %q: %w", s, err))
			}
			t = t.UTC()
			lock.RetainUntil = &t
		}
	}
	var hold struct {
		Status string `xml:"Status"`
	}
	found, err = c.getSubresource(ctx, bucket, key, versionID, "legal-hold", &hold)
	if err != nil {
		return nil, wrapErr("get object legal hold", bucket, key, versionID, err)
	}
	lock.LegalHold = found && strings.EqualFold(strings.TrimSpace(hold.Status), "ON")
	if lock.Mode == "" && lock.RetainUntil == nil && !lock.LegalHold {
		return nil, nil
	}
	return &lock, nil
}

// getSubresource reads ?name of a version into v; found is false when the
// endpoint says there is no such configuration.
func (c *Client) getSubresource(ctx context.Context, bucket, key, versionID, name string, v any) (found bool, err error) {
	q := url.Values{name: {""}}
	if vid := versionParam(versionID); vid != "" {
		q.Set("versionId", vid)
	}
	body, err := c.rawRequest(ctx, http.MethodGet, bucket, key, q, nil)
	if err != nil {
		if isAbsentConfig(err) {
			return false, nil
		}
		return false, err
	}
	if err := xml.Unmarshal(body, v); err != nil {
		return false, fmt.Errorf("decode %s: %w", name, err)
	}
	return true, nil
}
