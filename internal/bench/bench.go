package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/s3source"
	"github.com/cofferbackup/coffer/internal/service"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// Config sets the workload.
type Config struct {
	S3          s3source.Config // the endpoint to fill and back up
	DataDir     string          // coffer's data directory (vaults, catalog)
	Small       int             // number of small objects
	SmallSize   int             // bytes each
	Large       int             // number of large objects
	LargeSize   int64           // bytes each
	Parallelism int             // per job
	// Buckets, if not 0, adds the per-job phase: that many one-object
	// buckets, one backup each (the jobs' fixed cost).
	Buckets int
	// MaxJobs is the service's concurrent jobs (0: its default).
	MaxJobs int
	// Bucket, if set, is the bucket to back up: filled only if it does not
	// exist yet, so that a long fill (a million objects) serves several
	// runs. Default: a new bucket per run.
	Bucket string
	// RestorePrefix, if set, restores only the keys under it
	// (ItemsToRestore s3://bucket/prefix) instead of the whole bucket.
	RestorePrefix string
	// ReadTagsEvery is the backups' ReadTagsEvery option (0: unset).
	ReadTagsEvery int
	// FixedChunks sets the backups' Chunking option to fixed.
	FixedChunks bool
	// CacheDir is the service's CacheDir (the vaults' local caches).
	CacheDir string
	// Reps is how many times RunCompare repeats each work (medians).
	Reps int
	// HeapProfileDir, if set, receives one Go heap profile per phase,
	// <dir>/<n>-<phase>.heap.pprof, taken when the phase's heap in use
	// peaked (rewritten each time it grows by a tenth), so that
	// `go tool pprof` shows what held memory at the peak.
	HeapProfileDir string
}

// Phase is one measured step.
type Phase struct {
	Name       string
	Duration   time.Duration
	Objects    int64
	Bytes      int64 // bytes moved (read from the source or written to it)
	PeakRSS    int64 // process peak resident set during the phase (Linux), bytes
	PeakHeap   int64 // peak Go heap in use during the phase, bytes
	StatusText string
}

// Run executes the benchmark and writes a report to out.
func Run(ctx context.Context, cfg Config, out io.Writer) ([]Phase, error) {
	mc, err := minioClient(cfg.S3)
	if err != nil {
		return nil, err
	}
	bucket := cfg.Bucket
	if bucket == "" {
		bucket = fmt.Sprintf("bench-%d", time.Now().UnixNano())
	}
	if err := prepare(ctx, mc, cfg, bucket, out); err != nil {
		return nil, err
	}
	svc, err := cfg.openService(ctx)
	if err != nil {
		return nil, err
	}
	defer svc.Close(context.Background())
	if _, err := svc.CreateVault(ctx, service.CreateVaultInput{Name: "bench"}); err != nil {
		return nil, err
	}
	var phases []Phase
	full, err := cfg.measure(len(phases), "full backup", func() (int64, int64, string, error) { return cfg.backupInto(ctx, svc, "bench", bucket) })
	if err != nil {
		return nil, err
	}
	phases = append(phases, full)
	changed := cfg.Small / 100
	if changed == 0 {
		changed = 1
	}
	if err := fill(ctx, mc, bucket, changed, cfg.SmallSize, 0, 0, 1); err != nil {
		return nil, err
	}
	incr, err := cfg.measure(len(phases), fmt.Sprintf("incremental (%d changed)", changed), func() (int64, int64, string, error) { return cfg.backupInto(ctx, svc, "bench", bucket) })
	if err != nil {
		return nil, err
	}
	phases = append(phases, incr)
	name := "full restore"
	if cfg.RestorePrefix != "" {
		name = "restore of " + cfg.RestorePrefix + "*"
	}
	rest, err := cfg.measure(len(phases), name, func() (int64, int64, string, error) {
		return cfg.restoreInto(ctx, svc, "bench", bucket, fmt.Sprintf("%s-r%d", bucket, time.Now().Unix()))
	})
	if err != nil {
		return nil, err
	}
	phases = append(phases, rest)
	Report(out, phases)
	if cfg.Buckets > 0 {
		c, err := jobsPhase(ctx, mc, svc, cfg, bucket+"-j")
		if err != nil {
			return phases, fmt.Errorf("per-job phase: %w", err)
		}
		ReportJobs(out, c, max(cfg.MaxJobs, 2))
	}
	return phases, nil
}

// openService opens a coffer service on cfg's data directory and endpoint
// with a random master key.
func (cfg Config) openService(ctx context.Context) (*service.Service, error) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(rand.IntN(256))
	}
	return service.Open(ctx, service.Config{DataDir: cfg.DataDir, CacheDir: cfg.CacheDir, MasterKey: key, Parallelism: cfg.Parallelism, MaxConcurrentJobs: cfg.MaxJobs,
		Sources: map[string]s3source.Config{service.DefaultConnection: cfg.S3}, JanitorInterval: -1,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

// prepare makes the versioned bench bucket and fills it; an existing
// bucket named by cfg.Bucket is used as it is.
func prepare(ctx context.Context, mc *minio.Client, cfg Config, bucket string, out io.Writer) error {
	if cfg.Bucket != "" {
		ok, err := mc.BucketExists(ctx, bucket)
		if err != nil {
			return fmt.Errorf("bench bucket %q: %w", bucket, err)
		}
		if ok {
			fmt.Fprintf(out, "using bucket %s as it is\n", bucket)
			return nil
		}
	}
	if err := mc.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: cfg.S3.Region}); err != nil {
		return fmt.Errorf("create bench bucket: %w", err)
	}
	if err := mc.EnableVersioning(ctx, bucket); err != nil {
		return fmt.Errorf("enable versioning: %w", err)
	}
	fmt.Fprintf(out, "filling %s: %d x %d B small, %d x %d B large objects\n", bucket, cfg.Small, cfg.SmallSize, cfg.Large, cfg.LargeSize)
	t0 := time.Now()
	if err := fill(ctx, mc, bucket, cfg.Small, cfg.SmallSize, cfg.Large, cfg.LargeSize, 0); err != nil {
		return err
	}
	fmt.Fprintf(out, "filled in %s\n", time.Since(t0).Round(time.Millisecond))
	return nil
}

func minioClient(c s3source.Config) (*minio.Client, error) {
	secure := strings.HasPrefix(c.Endpoint, "https://")
	host := strings.TrimPrefix(strings.TrimPrefix(c.Endpoint, "https://"), "http://")
	return minio.New(host, &minio.Options{Creds: credentials.NewStaticV4(c.AccessKey, c.SecretKey, ""), Secure: secure,
		Region: c.Region, BucketLookup: minio.BucketLookupPath})
}

// fill writes small objects [0, small) and large objects [0, large); gen
// changes the bytes, so a later generation makes new versions.
func fill(ctx context.Context, mc *minio.Client, bucket string, small, smallSize, large int, largeSize int64, gen int) error {
	var wg sync.WaitGroup
	var firstErr atomic.Value
	sem := make(chan struct{}, 32)
	put := func(key string, size int64, seed uint64) {
		defer wg.Done()
		defer func() { <-sem }()
		r := io.LimitReader(newPattern(seed), size)
		if _, err := mc.PutObject(ctx, bucket, key, r, size, minio.PutObjectOptions{ContentType: "application/octet-stream",
			UserMetadata: map[string]string{"gen": strconv.Itoa(gen)}, PartSize: 16 << 20}); err != nil {
			firstErr.CompareAndSwap(nil, fmt.Errorf("put %s: %w", key, err))
		}
	}
	for i := 0; i < small; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go put(fmt.Sprintf("small/%07d", i), int64(smallSize), uint64(i)<<8|uint64(gen))
	}
	for i := 0; i < large; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go put(fmt.Sprintf("large/%03d", i), largeSize, uint64(1<<40+i))
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return err
	}
	return nil
}

// pattern is a fast deterministic pseudo-random byte stream.
type pattern struct{ r *rand.PCG }

func newPattern(seed uint64) *pattern { return &pattern{r: rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)} }

func (p *pattern) Read(b []byte) (int, error) {
	for i := 0; i+8 <= len(b); i += 8 {
		v := p.r.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := len(b) &^ 7; i < len(b); i++ {
		b[i] = byte(p.r.Uint64())
	}
	return len(b), nil
}

// backupInto backs bucket up into vault and waits for the job.
func (cfg Config) backupInto(ctx context.Context, svc *service.Service, vault, bucket string) (int64, int64, string, error) {
	in := service.StartBackupInput{VaultName: vault, ResourceARN: "arn:aws:s3:::" + bucket}
	if cfg.ReadTagsEvery > 0 || cfg.FixedChunks {
		in.BackupOptions = map[string]string{}
	}
	if cfg.ReadTagsEvery > 0 {
		in.BackupOptions[vocab.OptReadTagsEvery] = strconv.Itoa(cfg.ReadTagsEvery)
	}
	if cfg.FixedChunks {
		in.BackupOptions[vocab.OptChunking] = vocab.ChunkingFixed
	}
	j, err := svc.StartBackupJob(ctx, in)
	if err != nil {
		return 0, 0, "", err
	}
	for {
		j, err = svc.BackupJob(ctx, j.ID)
		if err != nil {
			return 0, 0, "", err
		}
		switch j.State {
		case service.StateCompleted:
			var st struct{ ObjectsScanned, ObjectsTransferred int64 }
			_ = json.Unmarshal([]byte(j.Stats), &st)
			return st.ObjectsScanned, j.BytesTransferred, j.StatusMessage, nil
		case service.StateFailed, service.StatePartial, service.StateAborted, service.StateExpired:
			return 0, 0, "", fmt.Errorf("backup ended %s: %s", j.State, j.StatusMessage)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// restoreInto restores the newest recovery point of bucket in vault into
// the new bucket dest and waits for the job.
func (cfg Config) restoreInto(ctx context.Context, svc *service.Service, vault, bucket, dest string) (int64, int64, string, error) {
	rps, _, err := svc.ListRecoveryPoints(ctx, catalog.RecoveryPointFilter{VaultName: vault, ResourceARN: "arn:aws:s3:::" + bucket}, catalog.Page{Max: 1})
	if err != nil || len(rps) == 0 {
		return 0, 0, "", errors.Join(errors.New("no recovery point to restore"), err)
	}
	md := map[string]string{"DestinationBucketName": dest, "NewBucket": "true"}
	if cfg.RestorePrefix != "" {
		items, _ := json.Marshal([]string{"s3://" + bucket + "/" + cfg.RestorePrefix})
		md["ItemsToRestore"] = string(items)
	}
	j, err := svc.StartRestoreJob(ctx, service.StartRestoreInput{RecoveryPointARN: rps[0].ARN, Metadata: md})
	if err != nil {
		return 0, 0, "", err
	}
	for {
		j, err = svc.RestoreJob(ctx, j.ID)
		if err != nil {
			return 0, 0, "", err
		}
		switch j.Status {
		case service.StateCompleted:
			var st struct{ ObjectsRestored int64 }
			_ = json.Unmarshal([]byte(j.Stats), &st)
			return st.ObjectsRestored, j.BytesRestored, j.StatusMessage, nil
		case service.StateFailed, service.StateAborted:
			return 0, 0, "", fmt.Errorf("restore ended %s: %s", j.Status, j.StatusMessage)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Report prints phases as a table.
func Report(out io.Writer, phases []Phase) {
	fmt.Fprintf(out, "\n%-28s %10s %10s %12s %10s %10s %10s %10s\n", "phase", "seconds", "objects", "MB moved", "MB/s", "objects/s", "peak RSS", "peak heap")
	for _, p := range phases {
		sec := p.Duration.Seconds()
		fmt.Fprintf(out, "%-28s %10.2f %10d %12.1f %10.1f %10.0f %9.0fM %9.0fM\n", p.Name, sec, p.Objects,
			float64(p.Bytes)/1e6, float64(p.Bytes)/1e6/sec, float64(p.Objects)/sec, float64(p.PeakRSS)/(1<<20), float64(p.PeakHeap)/(1<<20))
	}
	for _, p := range phases {
		fmt.Fprintf(out, "%s: %s\n", p.Name, p.StatusText)
	}
}
