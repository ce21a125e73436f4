package s3source

import (
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/cofferbackup/coffer/internal/testserver"
)

func TestDebugLock(t *testing.T) {
	for _, kind := range testserver.Kinds() {
		srv := testserver.Shared(t, kind)
		mc := srv.Client(t)
		ctx := testCtx(t)
		b := srv.NewBucket(t, true)
		lb := srv.NewBucketWith(t, testserver.BucketOptions{ObjectLock: true})
		putObj(t, mc, b, "k", []byte("x"), minio.PutObjectOptions{})
		putObj(t, mc, lb, "k", []byte("x"), minio.PutObjectOptions{})
		for _, bk := range []string{b, lb, "no-such-bucket"} {
			for _, k := range []string{"k", "missing"} {
				_, _, err := mc.GetObjectRetention(ctx, bk, k, "")
				r := minio.ToErrorResponse(err)
				_, err2 := mc.GetObjectLegalHold(ctx, bk, k, minio.GetObjectLegalHoldOptions{})
				r2 := minio.ToErrorResponse(err2)
				t.Logf("%s bucket=%s key=%s retention: %d %q %v | hold: %d %q %v", kind, bk[:8], k, r.StatusCode, r.Code, err, r2.StatusCode, r2.Code, err2)
			}
		}
		_, _, _, _, err := mc.GetObjectLockConfig(ctx, b)
		r := minio.ToErrorResponse(err)
		t.Logf("%s lock config of plain bucket: %d %q %v", kind, r.StatusCode, r.Code, err)
		_, _, _, _, err = mc.GetObjectLockConfig(ctx, "no-such-bucket")
		r = minio.ToErrorResponse(err)
		t.Logf("%s lock config of missing bucket: %d %q %v", kind, r.StatusCode, r.Code, err)
	}
}
