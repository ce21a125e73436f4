package backup_test

import (
	"context"
	"sync"
	"testing"

	"github.com/cofferbackup/coffer/internal/backup"
	bt "github.com/cofferbackup/coffer/internal/backup/backuptest"
	"github.com/cofferbackup/coffer/internal/testserver"
)

const (
	benchObjects    = 2000
	benchObjectSize = 4 << 10
)

var (
	benchOnce   sync.Once
	benchBucket string
)

// smallObjects returns a MinIO bucket holding benchObjects objects of
// benchObjectSize bytes, filled once per test process.
func smallObjects(b *testing.B) *testserver.Server {
	srv := testserver.Shared(b, testserver.MinIO)
	benchOnce.Do(func() { benchBucket = bt.Fill(b, srv, benchObjects, benchObjectSize) })
	if benchBucket == "" {
		b.Fatal("bench bucket not filled")
	}
	return srv
}

func BenchmarkBackupSmallObjects(b *testing.B) {
	srv := smallObjects(b)
	src := bt.Source(b, srv, "")
	b.SetBytes(benchObjects * benchObjectSize)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		v := bt.Vault(b)
		b.StartTimer()
		res, err := backup.Run(context.Background(), src, v, bt.Options(benchBucket, nil), nil)
		if err != nil || res.Manifest.ObjectCount != benchObjects {
			b.Fatalf("backup: %v, %+v", err, res.Manifest)
		}
	}
	b.ReportMetric(float64(benchObjects*b.N)/b.Elapsed().Seconds(), "objects/s")
}

// BenchmarkBackupSmallObjectsIncremental measures a backup where nothing
// changed: no data is read, only listings and tags.
func BenchmarkBackupSmallObjectsIncremental(b *testing.B) {
	srv := smallObjects(b)
	src := bt.Source(b, srv, "")
	v := bt.Vault(b)
	first := bt.Backup(b, src, v, benchBucket, nil, nil)
	b.ResetTimer()
	for range b.N {
		res := bt.Backup(b, src, v, benchBucket, &first.Manifest, nil)
		if res.Stats.ObjectsDeduplicated != benchObjects {
			b.Fatalf("stats %+v", res.Stats)
		}
	}
	b.ReportMetric(float64(benchObjects*b.N)/b.Elapsed().Seconds(), "objects/s")
}
