package s3source

import (
	"bytes"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/testserver"
)

func TestDebugMismatch(t *testing.T) {
	srv := testserver.Shared(t, testserver.MinIO)
	c := newClient(t, srv)
	bucket := srv.NewBucket(t, true)
	for _, tc := range []struct {
		name string
		size int64
		data []byte
	}{
		{"short", 10, []byte("12345")},
		{"long", 3, []byte("12345")},
		{"short multipart", 20 << 20, make([]byte, 17<<20)},
	} {
		start := time.Now()
		rec := &recpoint.Record{Key: "mismatch-" + tc.name, Size: tc.size}
		_, err := c.PutObject(testCtx(t), bucket, rec, bytes.NewReader(tc.data), false)
		t.Logf("%s: %v in %v", tc.name, err, time.Since(start))
	}
}
