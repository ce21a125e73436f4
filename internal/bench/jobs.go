package bench

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/cofferbackup/coffer/internal/service"
)

// JobCost is what the per-job phase measured: n backups of one-object
// buckets started at once, and the run time of each (RUNNING to
// COMPLETED: the vault lease, the catalog, the queue, one listing, one
// GET and the commit), which for a one-object bucket is the fixed cost.
type JobCost struct {
	Jobs      int
	Wall      time.Duration // first start to last completion
	P50, P99  time.Duration // each job's run time
	QueueWait time.Duration // median time from creation to RUNNING
}

// jobsPhase makes n buckets of one small object each, starts a backup of
// every one into the bench vault and waits for all of them.
func jobsPhase(ctx context.Context, mc *minio.Client, svc *service.Service, cfg Config, prefix string) (JobCost, error) {
	buckets := make([]string, cfg.Buckets)
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range buckets {
		buckets[i] = fmt.Sprintf("%s-%05d", prefix, i)
		wg.Add(1)
		sem <- struct{}{}
		go func(b string) {
			defer wg.Done()
			defer func() { <-sem }()
			err := mc.MakeBucket(ctx, b, minio.MakeBucketOptions{Region: cfg.S3.Region})
			if err == nil {
				_, err = mc.PutObject(ctx, b, "o", strings.NewReader("one small object"), 16, minio.PutObjectOptions{})
			}
			if err != nil {
				mu.Lock()
				firstErr = fmt.Errorf("bucket %s: %w", b, err)
				mu.Unlock()
			}
		}(buckets[i])
	}
	wg.Wait()
	if firstErr != nil {
		return JobCost{}, firstErr
	}
	start := time.Now()
	ids := make([]string, len(buckets))
	for i, b := range buckets {
		j, err := svc.StartBackupJob(ctx, service.StartBackupInput{VaultName: "bench", ResourceARN: "arn:aws:s3:::" + b})
		if err != nil {
			return JobCost{}, err
		}
		ids[i] = j.ID
	}
	var runs, waits []time.Duration
	for _, id := range ids {
		for {
			j, err := svc.BackupJob(ctx, id)
			if err != nil {
				return JobCost{}, err
			}
			if j.State == service.StateCompleted {
				runs = append(runs, j.CompletedAt.Sub(j.StartedAt))
				waits = append(waits, j.StartedAt.Sub(j.CreatedAt))
				break
			}
			if j.State == service.StateFailed || j.State == service.StatePartial || j.State == service.StateAborted || j.State == service.StateExpired {
				return JobCost{}, fmt.Errorf("backup of %s ended %s: %s", j.ResourceARN, j.State, j.StatusMessage)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	slices.Sort(runs)
	slices.Sort(waits)
	return JobCost{Jobs: len(ids), Wall: time.Since(start), P50: quantile(runs, 0.5), P99: quantile(runs, 0.99), QueueWait: quantile(waits, 0.5)}, nil
}

// quantile of sorted durations (nearest rank).
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// ReportJobs prints the per-job phase.
func ReportJobs(out io.Writer, c JobCost, workers int) {
	fmt.Fprintf(out, "\nper-job cost: %d backups of one-object buckets, %d at a time: %s in all (%.1f jobs/s, %s a job of wall time)\n",
		c.Jobs, workers, c.Wall.Round(time.Millisecond), float64(c.Jobs)/c.Wall.Seconds(), (c.Wall / time.Duration(max(c.Jobs, 1))).Round(time.Millisecond))
	fmt.Fprintf(out, "each job's run time (RUNNING to COMPLETED): p50 %s, p99 %s\n", c.P50.Round(time.Millisecond), c.P99.Round(time.Millisecond))
}
