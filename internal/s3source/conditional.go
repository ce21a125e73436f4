package s3source

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"

	"github.com/minio/minio-go/v7"
)

// ProbePrefix starts the name of the object ConditionalWrites writes and
// removes.
const ProbePrefix = ".coffer-conditional-write-probe-"

// ConditionalWrites reports whether the endpoint honours If-None-Match: *
// on writes into bucket, so that PutObjectIfAbsent cannot replace a key
// written meanwhile. It finds out once per bucket on this connection and
// remembers a definite answer: it writes a zero-byte probe object, writes
// it again with If-None-Match: * (412 = honoured; success = ignored; 501 or
// 400 = not supported) and removes every version it wrote. A probe that
// cannot be removed (a bucket with default object-lock retention) is left
// and logged. Probes that an earlier process left when it died between
// writing and removing one (kill -9 during a restore) are removed first,
// every version: the restore that resumes there cleans its bucket.
func (c *Client) ConditionalWrites(ctx context.Context, bucket string) (bool, error) {
	if v, ok := c.conditional.Load(bucket); ok {
		return v.(bool), nil
	}
	ok, err := c.probeConditional(ctx, bucket)
	if err != nil {
		return false, fmt.Errorf("s3source: probe conditional writes in %s: %w", bucket, err)
	}
	c.conditional.Store(bucket, ok)
	return ok, nil
}

func (c *Client) probeConditional(ctx context.Context, bucket string) (bool, error) {
	c.removeLeftoverProbes(ctx, bucket)
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	key := ProbePrefix + hex.EncodeToString(rnd[:])
	var written []string // version ids to remove ("" on an unversioned bucket)
	defer func() { c.removeProbe(bucket, key, written) }()
	put := func(opts minio.PutObjectOptions) error {
		return c.do(ctx, func(ctx context.Context) error {
			opts.ContentType = "application/octet-stream"
			info, err := c.mc.PutObject(ctx, bucket, key, bytes.NewReader(nil), 0, opts)
			if err == nil {
				written = append(written, info.VersionID)
			}
			return err
		})
	}
	if err := put(minio.PutObjectOptions{}); err != nil {
		return false, wrapErr("put object", bucket, key, "", err)
	}
	var cond minio.PutObjectOptions
	cond.SetMatchETagExcept("*")
	err := put(cond)
	_, kind := classify(err)
	switch {
	case err == nil: // header ignored: the probe was written over
		return false, nil
	case kind == ErrPreconditionFailed:
		return true, nil
	case kind == ErrNotSupported || minio.ToErrorResponse(err).StatusCode == 400:
		return false, nil
	}
	return false, wrapErr("put object if absent", bucket, key, "", err)
}

// removeProbe deletes the probe's versions, even when ctx was cancelled.
func (c *Client) removeProbe(bucket, key string, versions []string) {
	ctx := context.Background()
	if len(versions) > 0 && versions[0] == "" {
		versions = []string{""} // unversioned: one delete removes it
	}
	var errs []error
	for _, vid := range versions {
		err := c.do(ctx, func(ctx context.Context) error {
			return c.mc.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{VersionID: vid})
		})
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		slog.Warn("conditional-write probe object left in bucket", "bucket", bucket, "key", key, "err", err)
	}
}

// removeLeftoverProbes removes every version of every probe object in
// bucket, best effort (a failure is logged: the probe still works). A
// probe another process runs at this moment may lose its object: its
// conditional write then succeeds and it concludes, on the safe side,
// that the header is ignored.
func (c *Client) removeLeftoverProbes(ctx context.Context, bucket string) {
	type leftover struct{ key, vid string }
	var found []leftover
	list := func(versions bool) error {
		found = found[:0]
		for o := range c.mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: ProbePrefix, Recursive: true, WithVersions: versions}) {
			if o.Err != nil {
				return o.Err
			}
			found = append(found, leftover{o.Key, o.VersionID})
		}
		return nil
	}
	// An endpoint without versions answers the plain listing.
	if err := list(true); err != nil {
		if err := list(false); err != nil {
			slog.Warn("list leftover conditional-write probes", "bucket", bucket, "err", err)
			return
		}
	}
	byKey := map[string][]string{}
	for _, f := range found {
		if f.vid == "null" {
			f.vid = ""
		}
		byKey[f.key] = append(byKey[f.key], f.vid)
	}
	for key, vids := range byKey {
		c.removeProbe(bucket, key, vids)
	}
}
