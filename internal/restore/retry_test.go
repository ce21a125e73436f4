package restore_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	bt "github.com/cofferbackup/coffer/internal/backup/backuptest"
	"github.com/cofferbackup/coffer/internal/restore"
	"github.com/cofferbackup/coffer/internal/retry"
	"github.com/cofferbackup/coffer/internal/s3source"
	"github.com/cofferbackup/coffer/internal/testserver"
)

// TestRestoreRetriesDoNotMultiply: a destination that throttles every
// DELETE (the write of a delete marker) sees exactly the policy's tries
// for it: the restore's loop decides, the client's requests inside it run
// once (before, 3 restore attempts of 10 minio-go tries each: 30).
func TestRestoreRetriesDoNotMultiply(t *testing.T) {
	t.Parallel()
	for _, kind := range testserver.Kinds() {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			srv := testserver.Shared(t, kind)
			mc := srv.Client(t)
			bucket := srv.NewBucket(t, true)
			putString(t, mc, bucket, "gone", "was here")
			if err := mc.RemoveObject(context.Background(), bucket, "gone", minio.RemoveObjectOptions{}); err != nil {
				t.Fatal(err)
			}
			src := bt.Source(t, srv, "")
			v := bt.Vault(t)
			m := bt.Backup(t, src, v, bucket, nil, nil).Manifest

			var deletes atomic.Int32
			target, _ := url.Parse(srv.Endpoint)
			rp := httputil.NewSingleHostReverseProxy(target)
			ps := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodDelete && strings.HasSuffix(r.URL.Path, "/gone") && r.URL.Query().Get("versionId") == "" {
					deletes.Add(1)
					w.Header().Set("Retry-After", "0")
					w.WriteHeader(http.StatusServiceUnavailable)
					_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>injected</Message></Error>`))
					return
				}
				rp.ServeHTTP(w, r)
			}))
			t.Cleanup(ps.Close)
			dst, err := s3source.New(s3source.Config{Endpoint: ps.URL, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Region: srv.Region,
				Retry: retry.Policy{Attempts: 3, Base: time.Millisecond, ThrottleBase: time.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			r := bt.Restore(t, dst, v, m, restore.Options{DestBucket: srv.NewBucket(t, true)})
			if r.Stats.ObjectsFailed != 1 || deletes.Load() != 3 {
				t.Fatalf("%d keys failed, the destination saw %d DELETE tries; want 1 failed after exactly 3", r.Stats.ObjectsFailed, deletes.Load())
			}
		})
	}
}
