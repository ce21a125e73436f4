package s3source

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/testserver"
)

// TestPutObjectKeepAliveVersityGW: versitygw with --keep-alive misreads
// the end of aws-chunked (streaming-signed) bodies and answers stray 400s
// on the reused connection, failing later requests at random. PutObject
// sends Content-MD5 bodies instead; this puts and reads concurrently,
// size mismatches included, and wants no failure.
func TestPutObjectKeepAliveVersityGW(t *testing.T) {
	t.Parallel()
	srv := testserver.StartWith(t, testserver.VersityGW, testserver.Options{Args: []string{"--keep-alive"}})
	c := newClient(t, srv)
	bucket := srv.NewBucket(t, true)
	var wg sync.WaitGroup
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				putGet(t, c, bucket, fmt.Sprintf("k%d-%d", w, i), i)
			}
		}(w)
	}
	wg.Wait()
	if t.Failed() {
		t.Log(srv.LogTail(20))
	}
}

func putGet(t *testing.T, c *Client, bucket, key string, i int) {
	data := bytes.Repeat([]byte("x"), i%3)
	rec := &recpoint.Record{Key: key, Size: int64(len(data))}
	switch i % 5 {
	case 0:
		rec.Size += 2 // short stream
	case 1:
		data = append(data, 'y') // long stream
	}
	vid, err := c.PutObject(testCtx(t), bucket, rec, bytes.NewReader(data), false)
	if i%5 < 2 {
		if !errors.Is(err, ErrSizeMismatch) {
			t.Errorf("%s: size mismatch not detected: %v", key, err)
		}
		return
	}
	if err != nil {
		t.Errorf("%s: put: %v", key, err)
		return
	}
	rc, _, err := c.GetObject(testCtx(t), bucket, key, vid)
	if err != nil {
		t.Errorf("%s: get: %v", key, err)
		return
	}
	_ = rc.Close()
}
