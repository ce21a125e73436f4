package restore_test

import (
	"context"
	"testing"

	bt "github.com/cofferbackup/coffer/internal/backup/backuptest"
	"github.com/cofferbackup/coffer/internal/restore"
	"github.com/cofferbackup/coffer/internal/testserver"
)

// BenchmarkPreview previews a restore of benchObjects keys into the
// bucket that holds them all (every key skipped: the merge-join of the
// stream with the listing, no HEAD) and a rollback of it (every key
// unchanged: a HEAD per key).
func BenchmarkPreview(b *testing.B) {
	srv := testserver.Shared(b, testserver.MinIO)
	bucket := bt.Fill(b, srv, benchObjects, benchObjectSize)
	src := bt.Source(b, srv, "")
	v := bt.Vault(b)
	m := bt.Backup(b, src, v, bucket, nil, nil).Manifest
	s := restore.ManifestStream(v, m)
	for _, bc := range []struct {
		name string
		opts restore.Options
		want func(restore.Preview) int64
	}{
		{"restore", restore.Options{DestBucket: bucket}, func(p restore.Preview) int64 { return p.Skip.Count }},
		{"rollback", restore.Options{DestBucket: bucket, Rollback: true}, func(p restore.Preview) int64 { return p.Unchanged.Count }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for range b.N {
				p, err := restore.PreviewStream(context.Background(), src, v, s, bc.opts, 0)
				if err != nil || bc.want(p) != benchObjects {
					b.Fatalf("preview %+v: %v", p, err)
				}
			}
			b.ReportMetric(float64(benchObjects*b.N)/b.Elapsed().Seconds(), "keys/s")
		})
	}
}
