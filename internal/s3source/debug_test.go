package s3source

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/cofferbackup/coffer/internal/testserver"
)

func TestDebugListing(t *testing.T) {
	for _, kind := range testserver.Kinds() {
		srv := testserver.Shared(t, kind)
		c := newClient(t, srv)
		mc := srv.Client(t)
		bucket := srv.NewBucket(t, true)
		for _, k := range []string{"b", "a", "a", "c/d", "c-e", "e", "sp ace+plus%25"} {
			putObj(t, mc, bucket, k, []byte(k), minio.PutObjectOptions{})
		}
		deleteMarker(t, mc, bucket, "e")
		putObj(t, mc, bucket, "e", []byte("e2"), minio.PutObjectOptions{})
		km, vm := "", ""
		for i := 0; i < 8; i++ {
			q := url.Values{"versions": {""}, "max-keys": {"2"}, "encoding-type": {"url"}}
			if km != "" {
				q.Set("key-marker", km)
			}
			if vm != "" {
				q.Set("version-id-marker", vm)
			}
			body, err := c.rawRequest(testCtx(t), http.MethodGet, bucket, "", q, nil)
			t.Logf("%s page %d: %s %v", kind, i, body, err)
			var r minio.ListVersionsResult
			_ = xmlDecodeHelper(body, &r)
			if !r.IsTruncated {
				break
			}
			km, vm = r.NextKeyMarker, r.NextVersionIDMarker
			km, _ = url.QueryUnescape(km)
		}
	}
}
