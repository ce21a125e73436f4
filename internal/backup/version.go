package backup

import (
	"context"
	"fmt"
	"strings"

	"github.com/cofferbackup/coffer/internal/bigobj"
	"github.com/cofferbackup/coffer/internal/jobreport"
	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/s3source"
	"github.com/cofferbackup/coffer/internal/vault"
)

// CaptureOptions describe the versions a Capturer reads: their bucket and
// what of each is kept (the backup options of the protecting rule).
type CaptureOptions struct {
	Bucket                 string
	BackupACLs, BackupTags bool
	// Parallelism bounds the large versions read at once (bigobj); default 16.
	Parallelism int
}

// Capturer captures single versions into a vault write session exactly
// as a backup captures each listed version (data, metadata, tags, ACL,
// lock state): continuous protection's capture jobs use it, so there is
// one capture of a version. Safe for concurrent use.
type Capturer struct{ j *job }

// NewCapturer reads the bucket's versioning and the endpoint's
// capabilities once and returns the capturer writing into vw.
func NewCapturer(ctx context.Context, src *s3source.Client, vw *vault.Writer, o CaptureOptions) (*Capturer, error) {
	if o.Parallelism <= 0 {
		o.Parallelism = DefaultParallelism
	}
	info, err := src.Bucket(ctx, o.Bucket)
	if err != nil {
		return nil, fmt.Errorf("capture from bucket %q: %w", o.Bucket, err)
	}
	caps, err := src.Probe(ctx, o.Bucket)
	if err != nil {
		caps = s3source.Capabilities{} // unknown: every version is read in full
	}
	opts := Options{Bucket: o.Bucket, BackupACLs: o.BackupACLs, BackupTags: o.BackupTags, Parallelism: o.Parallelism}
	return &Capturer{j: &job{src: src, vw: vw, opts: opts, info: info, caps: caps, big: bigobj.New(o.Parallelism),
		log: jobreport.Log{Max: maxFailures}}}, nil
}

// Info is the bucket's versioning and object-lock state as read at start.
func (c *Capturer) Info() s3source.BucketInfo { return c.j.info }

// MetadataListing says the endpoint lists versions with their tags
// (s3source.Client.ListVersionsWithMetadata), which saves a request per
// version.
func (c *Capturer) MetadataListing() bool { return c.j.caps.MetadataListing }

// Capture captures version v (a delete marker too). prev, if not nil, is
// the same version captured before: its data is referenced, not read
// again. An error names why this version could not be captured; a vault
// failure or a cancelled ctx is returned as fatal too (IsFatal).
func (c *Capturer) Capture(ctx context.Context, v s3source.Version, prev *recpoint.Record) (*recpoint.Record, error) {
	it := &item{v: v, prev: prev}
	if err := c.j.capture(ctx, it); err != nil {
		return nil, &fatalError{err}
	}
	if it.failed {
		return nil, it.err
	}
	return it.rec, nil
}

// IsFatal reports whether a Capture error ends the whole capture (the
// vault failed, or ctx ended) rather than one version.
func IsFatal(err error) bool {
	_, ok := err.(*fatalError) //nolint:errorlint // Capture returns it unwrapped
	return ok
}

// Notes are the capturer's remarks so far (endpoint limits, tags that
// could not be read), fit for a status message: they name no object.
func (c *Capturer) Notes() string { return strings.Join(c.j.log.Notes(), "; ") }
