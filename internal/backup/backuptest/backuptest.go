// Package backuptest holds helpers shared by the tests of the backup and
// restore engines: a fast deterministic data generator, a vault and source
// client for a test server, bucket snapshots that compare every version,
// and a counting, fault-injecting reverse proxy in front of an S3 server.
// It is imported by tests only.
package backuptest

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/cofferbackup/coffer/internal/s3source"
	"github.com/cofferbackup/coffer/internal/testserver"
	"github.com/cofferbackup/coffer/internal/vault"
)

// Data returns a reader of n deterministic pseudo-random bytes derived
// from seed (splitmix64, 8 bytes per step): fast even under -race.
func Data(seed uint64, n int64) io.Reader {
	return io.LimitReader(&rng{state: seed}, n)
}

// Bytes returns n deterministic bytes derived from seed.
func Bytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	_, _ = io.ReadFull(Data(seed, int64(n)), b)
	return b
}

type rng struct {
	state uint64
	buf   [8]byte
	left  int // unread bytes at the end of buf
}

func (r *rng) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Read yields the little-endian bytes of successive next() values,
// whatever the sizes of the reads.
func (r *rng) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if r.left == 0 {
			if len(p)-n >= 8 {
				binary.LittleEndian.PutUint64(p[n:], r.next())
				n += 8
				continue
			}
			binary.LittleEndian.PutUint64(r.buf[:], r.next())
			r.left = 8
		}
		p[n] = r.buf[8-r.left]
		r.left--
		n++
	}
	return n, nil
}

// Source returns an s3source client for endpoint (a server or a proxy in
// front of one).
func Source(t testing.TB, srv *testserver.Server, endpoint string) *s3source.Client {
	t.Helper()
	if endpoint == "" {
		endpoint = srv.Endpoint
	}
	c, err := s3source.New(s3source.Config{
		Endpoint: endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Region: srv.Region,
	})
	if err != nil {
		t.Fatalf("s3source client for %s: %v", endpoint, err)
	}
	return c
}

// Vault creates a vault in a temporary folder, closed at the end of the test.
func Vault(t testing.TB) *vault.Vault {
	t.Helper()
	ctx := context.Background()
	v, err := vault.Create(ctx, t.TempDir(), "test-secret", vault.Options{})
	if err != nil {
		t.Fatalf("create vault: %v", err)
	}
	t.Cleanup(func() {
		if err := v.Close(context.Background()); err != nil {
			t.Errorf("close vault: %v", err)
		}
	})
	return v
}

// Fill creates a versioned bucket on srv with n objects of size bytes,
// "dirNN/obj-NNNNN" with the bytes of Bytes(i, size), written by 16
// goroutines.
func Fill(t testing.TB, srv *testserver.Server, n, size int) string {
	t.Helper()
	mc := srv.Client(t)
	bucket := srv.NewBucket(t, true)
	work := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range work {
				key := fmt.Sprintf("dir%02d/obj-%05d", i%50, i)
				if _, err := mc.PutObject(context.Background(), bucket, key, bytes.NewReader(Bytes(uint64(i), size)),
					int64(size), minio.PutObjectOptions{}); err != nil {
					t.Errorf("put %s/%s: %v", bucket, key, err)
				}
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return bucket
}
