package capture_test

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/cofferbackup/coffer/internal/backup/backuptest"
	"github.com/cofferbackup/coffer/internal/coffertest"
)

// BenchmarkCaptureLag measures the capture lag of issue 8: from a PUT's
// answer to the first LatestRestorableTime (polled every 20 ms) at or
// after the object's LastModified, with MinIO sending its webhooks to coffer, at 100 and 1,000
// writes per second for 10 s (new keys of 256 bytes, 32 writers). It
// reports p50 and p99 in ms and the write rate achieved. Not part of the
// test command:
//
//	go test -run '^$' -bench CaptureLag -benchtime 1x ./internal/capture/
func BenchmarkCaptureLag(b *testing.B) {
	for _, rate := range []int{100, 1000} {
		b.Run(fmt.Sprintf("%d-writes-per-s", rate), func(b *testing.B) {
			rl := newRelay(b)
			rl.arrived = map[string]time.Time{}
			e, mc, bucket, _ := webhookEnv(b, rl, time.Hour)
			arn := protectBucket(b, e, bucket)
			vault := vaultName(b, e, arn)
			b.ResetTimer()
			for i := range b.N {
				prefix := fmt.Sprintf("run%d/", i)
				lags, done, achieved := lagRun(b, e, mc, bucket, vault, arn, prefix, rate, 10*time.Second)
				slices.Sort(lags)
				b.ReportMetric(float64(lags[len(lags)/2].Milliseconds()), "p50-ms")
				b.ReportMetric(float64(lags[len(lags)*99/100].Milliseconds()), "p99-ms")
				b.ReportMetric(achieved, "writes/s")
				// How much of it is MinIO's delivery: PUT answer to webhook.
				rl.mu.Lock()
				var delivery []time.Duration
				for j, w := range done {
					if at, ok := rl.arrived[fmt.Sprintf("%s/%sk%06d", bucket, prefix, j)]; ok {
						delivery = append(delivery, at.Sub(w))
					}
				}
				rl.mu.Unlock()
				if len(delivery) > 0 {
					slices.Sort(delivery)
					b.ReportMetric(float64(delivery[len(delivery)/2].Milliseconds()), "webhook-p50-ms")
					b.ReportMetric(float64(delivery[len(delivery)*99/100].Milliseconds()), "webhook-p99-ms")
				}
			}
		})
	}
}

type poll struct {
	at, latest time.Time
}

// lagRun writes at rate for d and returns each write's lag.
func lagRun(b *testing.B, e *coffertest.Env, mc *minio.Client, bucket, vault, arn, prefix string, rate int, d time.Duration) (lags []time.Duration, done []time.Time, achieved float64) {
	var (
		mu    sync.Mutex
		polls []poll
		stop  = make(chan struct{})
		pwg   sync.WaitGroup
	)
	pwg.Add(1)
	go func() {
		defer pwg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			_, latest, _ := window(b, e, vault, arn)
			mu.Lock()
			polls = append(polls, poll{at: time.Now(), latest: latest})
			mu.Unlock()
		}
	}()
	n := rate * int(d/time.Second)
	done = make([]time.Time, n)
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	body := backuptest.Bytes(7, 256)
	begin := time.Now()
	for i := range n {
		if wait := time.Until(begin.Add(time.Duration(i) * time.Second / time.Duration(rate))); wait > 0 {
			time.Sleep(wait)
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if _, err := mc.PutObject(ctx, bucket, fmt.Sprintf("%sk%06d", prefix, i), bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{}); err != nil {
				b.Error(err)
			}
			done[i] = time.Now()
		}()
	}
	wg.Wait()
	achieved = float64(n) / time.Since(begin).Seconds()
	// A write is covered once LatestRestorableTime reaches its
	// LastModified (MinIO's clock, the one events carry).
	mtimes := map[string]time.Time{}
	for o := range mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			b.Fatal(o.Err)
		}
		mtimes[o.Key] = o.LastModified.Truncate(time.Millisecond)
	}
	if len(mtimes) != n {
		b.Fatalf("%d objects listed, %d written", len(mtimes), n)
	}
	last := slices.MaxFunc(slices.Collect(maps.Values(mtimes)), func(x, y time.Time) int { return x.Compare(y) })
	waitFor(b, 5*time.Minute, "the last write to be covered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(polls) > 0 && !polls[len(polls)-1].latest.Before(last)
	})
	close(stop)
	pwg.Wait()
	lags = make([]time.Duration, n)
	for i, w := range done {
		mt := mtimes[fmt.Sprintf("%sk%06d", prefix, i)]
		j, _ := slices.BinarySearchFunc(polls, mt, func(p poll, mt time.Time) int {
			if p.latest.Before(mt) {
				return -1
			}
			return 1
		})
		lags[i] = polls[min(j, len(polls)-1)].at.Sub(w)
	}
	return lags, done, achieved
}
