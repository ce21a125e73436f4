package restore_test

import (
	"testing"

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
	bucket := bt.Fill(b, srv, benchObjects, benchObjectSize)
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
