package restore_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/minio/minio-go/v7"

	bt "github.com/cofferbackup/coffer/internal/backup/backuptest"
	"github.com/cofferbackup/coffer/internal/restore"
	"github.com/cofferbackup/coffer/internal/testserver"
)

const (
	benchObjects    = 2000
	benchObjectSize = 4 << 10
)

func BenchmarkRestoreSmallObjects(b *testing.B) {
	srv := testserver.Shared(b, testserver.MinIO)
	mc := srv.Client(b)
	bucket := srv.NewBucket(b, true)
	work := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				key := fmt.Sprintf("dir%02d/obj-%05d", i%50, i)
				if _, err := mc.PutObject(context.Background(), bucket, key, bytes.NewReader(bt.Bytes(uint64(i), benchObjectSize)),
					benchObjectSize, minio.PutObjectOptions{}); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for i := range benchObjects {
		work <- i
	}
	close(work)
	wg.Wait()
	src := bt.Source(b, srv, "")
	v := bt.Vault(b)
	m := bt.Backup(b, src, v, bucket, nil, nil).Manifest
	b.SetBytes(benchObjects * benchObjectSize)
	b.ResetTimer()
	for range b.N {
		dest := testserver.UniqueBucketName("bench-restore")
		r := bt.Restore(b, src, v, m, restore.Options{DestBucket: dest, NewBucket: true})
		if r.Stats.VersionsRestored != benchObjects {
			b.Fatalf("stats %+v", r.Stats)
		}
	}
	b.ReportMetric(float64(benchObjects*b.N)/b.Elapsed().Seconds(), "objects/s")
}
