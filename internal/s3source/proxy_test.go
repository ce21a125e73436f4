package s3source

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/signer"

	"github.com/cofferbackup/coffer/internal/testserver"
)

// faultProxy puts a reverse proxy in front of a real server; fault may
// answer a request itself (returning true) or let it through.
func faultProxy(t *testing.T, srv *testserver.Server, fault func(w http.ResponseWriter, r *http.Request) bool) *Client {
	t.Helper()
	target, _ := url.Parse(srv.Endpoint)
	rp := httputil.NewSingleHostReverseProxy(target)
	ps := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fault != nil && fault(w, r) {
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(ps.Close)
	c, err := New(Config{Endpoint: ps.URL, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Region: srv.Region})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func s3Error(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>injected</Message></Error>`, code)
}

func isVersionsListing(r *http.Request) bool {
	_, ok := r.URL.Query()["versions"]
	return r.Method == http.MethodGet && ok
}

// fill writes n keys with two versions each.
func fill(t *testing.T, srv *testserver.Server, bucket string, n int) {
	t.Helper()
	mc := srv.Client(t)
	for i := 0; i < n; i++ {
		for v := 0; v < 2; v++ {
			putObj(t, mc, bucket, fmt.Sprintf("k%02d", i), []byte{byte(v)}, minio.PutObjectOptions{})
		}
	}
}

// TestListVersionsErrorMidway: an error on a later page is returned
// (wrapped and classified) after the entries of the earlier pages.
func TestListVersionsErrorMidway(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *testserver.Server, _ *Client) {
		bucket := srv.NewBucket(t, true)
		fill(t, srv, bucket, 3)
		c := faultProxy(t, srv, func(w http.ResponseWriter, r *http.Request) bool {
			if isVersionsListing(r) && r.URL.Query().Get("key-marker") != "" {
				s3Error(w, http.StatusForbidden, "AccessDenied")
				return true
			}
			return false
		})
		c.pageSize = 2
		n := 0
		err := c.ListVersions(testCtx(t), bucket, func(Version) error { n++; return nil })
		if !errors.Is(err, ErrAccessDenied) || n != 2 {
			t.Fatalf("got %v after %d entries, want ErrAccessDenied after 2", err, n)
		}
	})
}

// TestListVersionsRetries: a 503 answer is retried.
func TestListVersionsRetries(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *testserver.Server, _ *Client) {
		bucket := srv.NewBucket(t, true)
		fill(t, srv, bucket, 2)
		var failed atomic.Int32
		c := faultProxy(t, srv, func(w http.ResponseWriter, r *http.Request) bool {
			if isVersionsListing(r) && failed.Add(1) <= 2 {
				s3Error(w, http.StatusServiceUnavailable, "SlowDown")
				return true
			}
			return false
		})
		if vs := listAll(t, c, bucket); len(vs) != 4 {
			t.Fatalf("listed %d entries, want 4", len(vs))
		}
	})
}

// TestListVersionsFallback: endpoints without ListObjectVersions (501, or
// a plain listing in answer to ?versions) get a current-objects listing.
func TestListVersionsFallback(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *testserver.Server, _ *Client) {
		bucket := srv.NewBucket(t, true)
		fill(t, srv, bucket, 3)
		notImpl := faultProxy(t, srv, func(w http.ResponseWriter, r *http.Request) bool {
			if isVersionsListing(r) {
				s3Error(w, http.StatusNotImplemented, "NotImplemented")
				return true
			}
			return false
		})
		// Answers ?versions with ListObjects (v1), as an endpoint that
		// ignores the subresource would; the request is re-signed.
		ignoring := faultProxy(t, srv, func(w http.ResponseWriter, r *http.Request) bool {
			if isVersionsListing(r) {
				q := r.URL.Query()
				for _, p := range []string{"versions", "key-marker", "version-id-marker"} {
					q.Del(p)
				}
				r.URL.RawQuery = q.Encode()
				r.Header.Del("Authorization")
				*r = *signer.SignV4(*r, srv.AccessKey, srv.SecretKey, "", srv.Region)
			}
			return false
		})
		for name, c := range map[string]*Client{"501": notImpl, "ignored": ignoring} {
			vs := listAll(t, c, bucket)
			if len(vs) != 3 {
				t.Fatalf("%s: listed %d entries, want the 3 current objects", name, len(vs))
			}
			for i, v := range vs {
				if v.Key != fmt.Sprintf("k%02d", i) || v.VersionID != "null" || !v.IsLatest || v.Size != 1 {
					t.Errorf("%s: entry %d = %+v", name, i, v)
				}
			}
		}
	})
}

// TestListVersionsMarkerMangling: an endpoint that decodes key-marker once
// more than it should (seen from versitygw) is detected by the echoed
// KeyMarker and fed a marker escaped once more; the listing stays complete.
func TestListVersionsMarkerMangling(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *testserver.Server, _ *Client) {
		bucket := srv.NewBucket(t, true)
		mc := srv.Client(t)
		keys := []string{"a+b", "a b", "c%25d", "c%d", "e%2Bf", "g"}
		for _, k := range keys {
			putObj(t, mc, bucket, k, []byte(k), minio.PutObjectOptions{})
		}
		var mangled atomic.Int32
		c := faultProxy(t, srv, func(w http.ResponseWriter, r *http.Request) bool {
			q := r.URL.Query()
			km := q.Get("key-marker")
			if !isVersionsListing(r) || km == "" {
				return false
			}
			twice, err := url.QueryUnescape(km)
			if err != nil || twice == km {
				return false
			}
			mangled.Add(1)
			q.Set("key-marker", twice)
			r.URL.RawQuery = q.Encode()
			r.Header.Del("Authorization")
			*r = *signer.SignV4(*r, srv.AccessKey, srv.SecretKey, "", srv.Region)
			return false
		})
		c.pageSize = 2
		var got []string
		for _, v := range listAll(t, c, bucket) {
			got = append(got, v.Key)
		}
		want := fmt.Sprint([]string{"a b", "a+b", "c%25d", "c%d", "e%2Bf", "g"})
		if fmt.Sprint(got) != want || mangled.Load() == 0 {
			t.Errorf("listed %q (markers mangled %d times), want %s", got, mangled.Load(), want)
		}
	})
}
