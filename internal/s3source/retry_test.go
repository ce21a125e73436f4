package s3source

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/cofferbackup/coffer/internal/retry"
	"github.com/cofferbackup/coffer/internal/testserver"
)

// TestOneRetryPolicy: a proxy answers the first requests of an operation
// with 503 SlowDown and Retry-After; the server side sees exactly the tries
// the policy allows (minio-go's own retries and the raw requests' loop
// would add theirs: 10 and 4 tries) and the client waits what the server
// asked.
func TestOneRetryPolicy(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *testserver.Server, _ *Client) {
		bucket := srv.NewBucket(t, true)
		mc := srv.Client(t)
		putObj(t, mc, bucket, "k", []byte("data"), minio.PutObjectOptions{})
		for _, op := range []struct {
			name  string
			match func(r *http.Request) bool
			call  func(ctx context.Context, c *Client) error
		}{
			{"get object", func(r *http.Request) bool { return r.Method == http.MethodGet && r.URL.RawQuery == "" },
				func(ctx context.Context, c *Client) error {
					body, _, err := c.GetObject(ctx, bucket, "k", "")
					if err == nil {
						_ = body.Close()
					}
					return err
				}},
			{"head object", func(r *http.Request) bool { return r.Method == http.MethodHead },
				func(ctx context.Context, c *Client) error { _, err := c.ObjectExists(ctx, bucket, "k"); return err }},
			{"get tags", func(r *http.Request) bool { return r.URL.Query().Has("tagging") },
				func(ctx context.Context, c *Client) error { _, err := c.Tags(ctx, bucket, "k", ""); return err }},
			{"list versions (raw request)", isVersionsListing,
				func(ctx context.Context, c *Client) error {
					return c.ListVersions(ctx, bucket, func(Version) error { return nil })
				}},
		} {
			t.Run(op.name, func(t *testing.T) {
				t.Parallel()
				testRetryPolicy(t, srv, op.match, op.call)
			})
		}
	})
}

func testRetryPolicy(t *testing.T, srv *testserver.Server, match func(*http.Request) bool, call func(context.Context, *Client) error) {
	var tries, failFirst atomic.Int32
	var retryAfter atomic.Value
	c := faultProxy(t, srv, func(w http.ResponseWriter, r *http.Request) bool {
		if !match(r) || strings.Contains(r.URL.Path, ProbePrefix) {
			return false
		}
		if n := tries.Add(1); n <= failFirst.Load() {
			w.Header().Set("Retry-After", retryAfter.Load().(string))
			s3Error(w, http.StatusServiceUnavailable, "SlowDown")
			return true
		}
		return false
	})
	ctx := testCtx(t)

	// Twice SlowDown with Retry-After: 1, then through: 3 tries, 2 s waited.
	failFirst.Store(2)
	retryAfter.Store("1")
	start := time.Now()
	err := call(ctx, c)
	elapsed := time.Since(start)
	if err != nil || tries.Load() != 3 || elapsed < 2*time.Second {
		t.Errorf("default policy: %v after %d tries in %v; want success after 3 tries and at least 2 s", err, tries.Load(), elapsed)
	}
	t.Logf("default policy: %d tries in %v", tries.Load(), elapsed.Round(time.Millisecond))

	// Always SlowDown: exactly the policy's attempts, then the error.
	c.retry = retry.Policy{Attempts: 3, Base: time.Millisecond, ThrottleBase: time.Millisecond}
	tries.Store(0)
	failFirst.Store(1 << 30)
	retryAfter.Store("0")
	err = call(ctx, c)
	// (A HEAD answer has no body, so no SlowDown code: its status says it.)
	var oe *OpError
	if !errors.As(err, &oe) || oe.Code != "SlowDown" && !strings.Contains(err.Error(), "503") || tries.Load() != 3 {
		t.Errorf("always throttled: %v after %d tries; want the 503 after exactly 3", err, tries.Load())
	}
}
