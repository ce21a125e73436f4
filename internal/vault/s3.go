package vault

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/kopia/kopia/repo"
	"github.com/kopia/kopia/repo/blob"
	"github.com/kopia/kopia/repo/blob/s3"
	"github.com/kopia/kopia/repo/maintenance"
)

// S3Location keeps a vault's blobs in an S3 bucket (under Prefix) instead
// of its directory, which then holds only the connection config and the
// local cache (docs/format.md, "Vault directory").
type S3Location struct {
	Endpoint  string // http:// or https:// URL
	Region    string
	AccessKey string
	SecretKey string
	Bucket    string
	Prefix    string // "" or ending in "/"
	RootCA    []byte // PEM of a private CA, if any
}

// ObjectLock is the S3 Object Lock retention every blob of a new vault is
// written with; maintenance extends it (kopia's extend-blob-retention
// task) so that a live blob's retention never runs out.
type ObjectLock struct {
	Mode   string // COMPLIANCE or GOVERNANCE
	Period time.Duration
}

// minObjectLockPeriod leaves maintenance (a full cycle a day) room to
// extend retentions well before they run out, as kopia requires.
const minObjectLockPeriod = 3 * 24 * time.Hour

func (l *ObjectLock) validate() error {
	mode := blob.RetentionMode(l.Mode)
	if !mode.IsValid() {
		return fmt.Errorf("object lock mode %q: want COMPLIANCE or GOVERNANCE", l.Mode)
	}

	if l.Period < minObjectLockPeriod {
		return fmt.Errorf("object lock period %v is shorter than %v", l.Period, minObjectLockPeriod)
	}

	return nil
}

func newS3Storage(ctx context.Context, loc *S3Location, create bool) (blob.Storage, error) {
	u, err := url.Parse(loc.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("S3 endpoint %q: want http(s)://host[:port]", loc.Endpoint)
	}

	prefix := loc.Prefix
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}

	st, err := s3.New(ctx, &s3.Options{
		BucketName: loc.Bucket, Prefix: prefix, Endpoint: u.Host, DoNotUseTLS: u.Scheme == "http", RootCA: loc.RootCA,
		AccessKeyID: loc.AccessKey, SecretAccessKey: loc.SecretKey, Region: loc.Region,
	}, create)
	if err != nil {
		return nil, fmt.Errorf("S3 storage s3://%s/%s: %w", loc.Bucket, prefix, err)
	}

	return st, nil
}

// enableObjectLockExtension turns on kopia's extension of blob
// retentions in the vault's maintenance.
func (v *Vault) enableObjectLockExtension(ctx context.Context) error {
	return repo.DirectWriteSession(ctx, v.rep, repo.WriteSessionOptions{Purpose: "coffer-object-lock"},
		func(ctx context.Context, w repo.DirectRepositoryWriter) error {
			p, err := maintenance.GetParams(ctx, w)
			if err != nil {
				return fmt.Errorf("maintenance params: %w", err)
			}

			p.ExtendObjectLocks = true

			return maintenance.SetParams(ctx, w, p)
		})
}

// ObjectLocked reports whether the vault's blobs carry an S3 Object Lock
// retention, and its mode and period.
func (v *Vault) ObjectLocked(ctx context.Context) (ObjectLock, bool, error) {
	done, err := v.use()
	if err != nil {
		return ObjectLock{}, false, err
	}
	defer done()

	cfg, err := v.rep.FormatManager().BlobCfgBlob(ctx)
	if err != nil {
		return ObjectLock{}, false, fmt.Errorf("vault %q: blob configuration: %w", v.dir, err)
	}

	if !cfg.IsRetentionEnabled() {
		return ObjectLock{}, false, nil
	}

	return ObjectLock{Mode: string(cfg.RetentionMode), Period: cfg.RetentionPeriod}, true, nil
}
