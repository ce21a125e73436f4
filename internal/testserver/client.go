package testserver

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Client returns a minio-go client for the server (path-style), for tests
// to populate and inspect buckets.
func (s *Server) Client(t testing.TB) *minio.Client {
	t.Helper()
	c, err := minio.New(s.Addr(), &minio.Options{
		Creds:        credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""),
		Secure:       false,
		Region:       s.Region,
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatalf("testserver: minio client for %s: %v", s.Endpoint, err)
	}
	return c
}

// BucketOptions describe a bucket made by NewBucketWith.
type BucketOptions struct {
	Versioned  bool
	ObjectLock bool // object lock enabled at creation (implies versioning)
}

// NewBucket creates a uniquely named bucket, with versioning enabled if
// versioned, and returns its name.
func (s *Server) NewBucket(t testing.TB, versioned bool) string {
	t.Helper()
	return s.NewBucketWith(t, BucketOptions{Versioned: versioned})
}

var bucketSeq atomic.Uint64

// NewBucketWith creates a uniquely named bucket with opts.
func (s *Server) NewBucketWith(t testing.TB, opts BucketOptions) string {
	t.Helper()
	name := UniqueBucketName(t.Name())
	ctx, cancel := setupCtx()
	defer cancel()
	c := s.Client(t)
	err := c.MakeBucket(ctx, name, minio.MakeBucketOptions{Region: s.Region, ObjectLocking: opts.ObjectLock})
	if err != nil {
		t.Fatalf("testserver: create bucket %s on %s: %v\n--- server log tail ---\n%s", name, s.Kind, err, s.LogTail(20))
	}
	if opts.Versioned && !opts.ObjectLock {
		if err := c.EnableVersioning(ctx, name); err != nil {
			t.Fatalf("testserver: enable versioning on %s (%s): %v", name, s.Kind, err)
		}
	}
	return name
}

// UniqueBucketName returns a valid bucket name, unique within the process
// and very likely across processes, derived from hint (e.g. t.Name()).
func UniqueBucketName(hint string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(hint) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "-") {
				b.WriteByte('-')
			}
		}
		if b.Len() >= 30 {
			break
		}
	}
	prefix := strings.Trim(b.String(), "-")
	if prefix == "" {
		prefix = "b"
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	seq := bucketSeq.Add(1)
	return "t-" + prefix + "-" + hex.EncodeToString(rnd[:]) + "-" + strconv.FormatUint(seq, 10)
}
