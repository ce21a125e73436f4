package restore_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bt "github.com/cofferbackup/coffer/internal/backup/backuptest"
	"github.com/cofferbackup/coffer/internal/capturelog"
	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/restore"
	"github.com/cofferbackup/coffer/internal/testserver"
	"github.com/cofferbackup/coffer/internal/vault"
)

const (
	pitrKeys     = 10_000
	pitrVersions = 10 // captured changes per key: 100,000 in all
	pitrSegment  = 1_000
)

// BenchmarkPITRRestore compares, for issue 8, a point-in-time restore of
// a bucket of 10,000 keys whose capture log holds 100,000 changes (10
// versions of each key over 100 segments of 1,000, as event batches
// write them) with a periodic restore of the same state (the same
// 10,000 current versions and data), and a point-in-time restore of a
// log of 10,000 changes (one per key): time, and the peak live heap
// while restoring (sampled every 10 ms), which must not grow with the
// number of changes. Not part of the test command:
//
//	go test -run '^$' -bench PITRRestore -benchtime 1x ./internal/restore/
func BenchmarkPITRRestore(b *testing.B) {
	srv := testserver.Shared(b, testserver.MinIO)
	bucket := bt.Fill(b, srv, pitrKeys, 1<<10)
	src := bt.Source(b, srv, "")
	v := bt.Vault(b)
	m := bt.Backup(b, src, v, bucket, nil, nil).Manifest
	end := captureLogOf(b, v, m, "continuous:many", pitrVersions)
	captureLogOf(b, v, m, "continuous:one", 1)

	runs := []struct {
		name   string
		stream func(ctx context.Context) restore.Stream
	}{
		{"periodic", func(context.Context) restore.Stream { return restore.ManifestStream(v, m) }},
		{"pitr-100k-changes", func(ctx context.Context) restore.Stream {
			return pitrStream(ctx, b, v, m.Bucket, "continuous:many", end)
		}},
		{"pitr-10k-changes", func(ctx context.Context) restore.Stream {
			return pitrStream(ctx, b, v, m.Bucket, "continuous:one", end)
		}},
	}
	for _, r := range runs {
		b.Run(r.name, func(b *testing.B) {
			ctx := context.Background()
			var peak uint64
			for range b.N {
				dest := testserver.UniqueBucketName("bench-pitr")
				stop := heapPeak(&peak)
				res, err := restore.RunStream(ctx, src, v, r.stream(ctx), restore.Options{DestBucket: dest, NewBucket: true, VersionsUpTo: 1}, nil)
				stop()
				if err != nil || res.Stats.VersionsRestored != pitrKeys {
					b.Fatalf("restore: %+v %v", res.Stats, err)
				}
			}
			b.ReportMetric(float64(pitrKeys*b.N)/b.Elapsed().Seconds(), "objects/s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}

// captureLogOf writes a capture log for rp whose state at the returned
// time is m's: per key, versions-1 older versions (sharing the key's
// data) and then m's own record, in segments of pitrSegment changes.
func captureLogOf(b *testing.B, v *vault.Vault, m recpoint.Manifest, rp string, versions int) time.Time {
	b.Helper()
	ctx := context.Background()
	rc, err := v.OpenObject(ctx, vault.ObjectID(m.Records))
	if err != nil {
		b.Fatal(err)
	}
	defer rc.Close()
	rd, err := recpoint.NewReader(rc)
	if err != nil {
		b.Fatal(err)
	}
	var recs []recpoint.Record
	for {
		var r recpoint.Record
		if err := rd.Next(&r); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			b.Fatal(err)
		}
		recs = append(recs, r)
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w, err := v.NewWriter(ctx)
	if err != nil {
		b.Fatal(err)
	}
	seq := int64(1)
	var batch []capturelog.Change
	for j := range versions {
		for i, r := range recs {
			c := capturelog.Change{Record: r, Seen: base}
			c.IsLatest, c.Ord = false, int64(j)
			c.LastModified = base.Add(time.Duration(j)*time.Hour + time.Duration(i)*time.Millisecond)
			if j < versions-1 {
				c.VersionID = fmt.Sprintf("%s-old-%d", r.VersionID, j)
			}
			batch = append(batch, c)
			if len(batch) == pitrSegment {
				if _, err := capturelog.WriteSegment(ctx, w, rp, seq, batch); err != nil {
					b.Fatal(err)
				}
				seq, batch = seq+1, batch[:0]
			}
		}
	}
	if len(batch) > 0 {
		if _, err := capturelog.WriteSegment(ctx, w, rp, seq, batch); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	return base.Add(time.Duration(versions) * time.Hour)
}

// pitrStream is the state of rp at t as a restore stream (as
// restorejob's continuousStream builds it).
func pitrStream(ctx context.Context, b *testing.B, v *vault.Vault, bucket, rp string, t time.Time) restore.Stream {
	plan, err := capturelog.PlanAt(ctx, v, rp, t)
	if err != nil {
		b.Fatal(err)
	}
	return restore.Stream{Name: rp, Bucket: bucket, Open: func(ctx context.Context) (io.ReadCloser, error) {
		pr, pw := io.Pipe()
		go func() {
			_, err := capturelog.WriteStateAt(ctx, v, plan, pw)
			pw.CloseWithError(err)
		}()
		return pr, nil
	}}
}

// heapPeak samples the live heap every 10 ms into peak until stopped.
func heapPeak(peak *uint64) (stop func()) {
	var done atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for !done.Load() {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > *peak {
				*peak = ms.HeapAlloc
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	return func() { done.Store(true); wg.Wait() }
}
