package s3source

import (
	"errors"
	"time"

	"github.com/cofferbackup/coffer/internal/retry"
)

// Sentinel errors callers branch on; returned errors wrap them.
var (
	ErrNoSuchBucket  = errors.New("no such bucket")
	ErrNotFound      = errors.New("object version not found") // NoSuchKey, NoSuchVersion
	ErrAccessDenied  = errors.New("access denied")
	ErrNotSupported  = errors.New("not supported by the endpoint") // NotImplemented and similar
	ErrBucketExists  = errors.New("bucket already exists")
	ErrInvalidConfig = errors.New("invalid S3 connection")
	// ErrPreconditionFailed is a conditional write refused (412) because
	// the key exists.
	ErrPreconditionFailed = errors.New("precondition failed: the key exists")
)

// Config describes one S3 endpoint connection.
type Config struct {
	Endpoint  string // http:// or https:// URL
	AccessKey string
	SecretKey string
	Region    string // default us-east-1
	// PartSize for multipart uploads on restore; default 8 MiB.
	PartSize uint64
	// Retry is the policy of every request on this connection and of the
	// engine steps that use it; the zero value is retry.Default.
	Retry retry.Policy
	// IdleTimeout fails a request whose connection carries nothing, either
	// way, for this long: a stalled answer (before its headers or in the
	// middle of its body) or a server that stopped reading a request's
	// body. The request is then tried again under Retry. Default
	// DefaultIdleTimeout.
	IdleTimeout time.Duration
	// VirtualHosted addresses buckets as bucket.host (AWS's virtual-hosted
	// style) instead of host/bucket (path style, the default, which every
	// S3-compatible server takes).
	VirtualHosted bool
	// CACertPEM, if set, are the only certificate authorities trusted for
	// an https endpoint (a private CA).
	CACertPEM []byte
}

// DefaultIdleTimeout is Config.IdleTimeout's default: as long as the
// wait for an answer's headers (minio-go's ResponseHeaderTimeout).
const DefaultIdleTimeout = time.Minute

// Version is one entry of a version listing.
type Version struct {
	Key          string
	VersionID    string // "null" or "" for unversioned objects
	IsLatest     bool
	DeleteMarker bool
	LastModified time.Time
	Size         int64
	ETag         string // without quotes
	StorageClass string
	// Listed says the listing showed this version's tags (MinIO's
	// metadata listing): ListedTags are then its tags, nil if none, and
	// no GetObjectTagging is needed.
	Listed     bool
	ListedTags map[string]string
}

// BucketInfo is what a backup needs to know about a bucket before listing.
type BucketInfo struct {
	Versioning string // "Enabled", "Suspended" or "" (never enabled)
	ObjectLock bool   // object lock enabled on the bucket
	// ObjectLockMode is the mode of the bucket's default retention
	// (COMPLIANCE or GOVERNANCE), "" without one.
	ObjectLockMode string
}

// ObjectMeta is the metadata of one object version as GetObject returns it.
type ObjectMeta struct {
	VersionID          string // set by Current only
	ETag               string
	Size               int64
	LastModified       time.Time
	StorageClass       string
	ContentType        string
	ContentEncoding    string
	ContentDisposition string
	ContentLanguage    string
	CacheControl       string
	Expires            string
	UserMetadata       map[string]string // keys without the x-amz-meta- prefix, lower case
	Checksums          map[string]string
	TagCount           int // from x-amz-tagging-count; -1 if the endpoint did not say
}
