package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/cofferbackup/coffer/internal/bench"
	"github.com/cofferbackup/coffer/internal/cli"
	"github.com/cofferbackup/coffer/internal/cli/servercmd"
	"github.com/cofferbackup/coffer/internal/s3source"
	"github.com/cofferbackup/coffer/internal/testserver"
)

func init() {
	cli.Register(cli.Command{Name: "bench", Summary: "measure backup, incremental and restore throughput and memory on a local MinIO", Run: runBench})
}

func runBench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("coffer bench", flag.ContinueOnError)
	var cfg bench.Config
	fs.IntVar(&cfg.Small, "small", 10000, "number of small objects")
	fs.IntVar(&cfg.SmallSize, "small-size", 16<<10, "size of each small object in bytes")
	fs.IntVar(&cfg.Large, "large", 4, "number of large objects")
	fs.Int64Var(&cfg.LargeSize, "large-size", 128<<20, "size of each large object in bytes")
	fs.IntVar(&cfg.Parallelism, "parallelism", 16, "objects read or written at once per job")
	fs.IntVar(&cfg.Buckets, "buckets", 0, "also time `N` backups of one-object buckets (each job's fixed cost)")
	fs.IntVar(&cfg.MaxJobs, "max-jobs", 0, "jobs run at once (0: the server's default)")
	fs.StringVar(&cfg.Bucket, "bucket", "", "bucket to back up, filled only if it does not exist yet (default: a new one per run)")
	fs.StringVar(&cfg.RestorePrefix, "restore-prefix", "", "restore only the keys under this prefix (e.g. small/000: 10,000 keys)")
	compare := fs.Bool("compare", false, "run side by side with rclone (required on PATH) and kopia (if on PATH) on the same data and print coffer's ratios to them")
	fs.IntVar(&cfg.Reps, "reps", 3, "with --compare: repetitions of each work (medians are printed)")
	fs.StringVar(&cfg.CacheDir, "cache-dir", "", "directory of the vaults' local caches, as coffer server's --cache-dir (default inside the data directory)")
	fs.BoolVar(&cfg.FixedChunks, "fixed-chunks", false, "the backups' Chunking option fixed (4 MiB chunks instead of content-defined ones)")
	fs.IntVar(&cfg.ReadTagsEvery, "read-tags-every", 0, "the backups' ReadTagsEvery option (N > 1: the incremental takes unchanged versions' tags from the full backup)")
	endpoint := fs.String("s3-endpoint", "", "S3 endpoint to use instead of starting a MinIO (needs --s3-access-key/--s3-secret-key)")
	access := fs.String("s3-access-key", "", "access key for --s3-endpoint")
	secret := fs.String("s3-secret-key", "", "secret key for --s3-endpoint")
	pprofAddr := fs.String("pprof", "", "serve net/http/pprof on this address (e.g. localhost:6060) while the bench runs")
	memLimit := fs.Int64("memory-limit", servercmd.DefaultMemoryLimit>>20, "soft memory limit in MiB, as coffer server's (0: none; env GOMEMLIMIT wins)")
	fs.StringVar(&cfg.HeapProfileDir, "heap-profile", "", "write each phase's heap profile at its peak into this directory (for go tool pprof)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	servercmd.ApplyMemoryLimit(*memLimit)
	if *pprofAddr != "" {
		stop, err := bench.ServePprof(*pprofAddr)
		if err != nil {
			return err
		}
		defer stop()
	}
	dir, err := os.MkdirTemp("", "coffer-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg.DataDir = dir
	cfg.S3 = s3source.Config{Endpoint: *endpoint, AccessKey: *access, SecretKey: *secret, Region: "us-east-1"}
	if *endpoint == "" {
		// A private MinIO from the test-server cache (scripts/install-test-servers.sh).
		srv, err := testserver.Launch(testserver.MinIO, testserver.Options{})
		if err != nil {
			return fmt.Errorf("start MinIO (run bash scripts/install-test-servers.sh first): %w", err)
		}
		defer srv.Stop()
		cfg.S3 = s3source.Config{Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Region: srv.Region}
	}
	if *compare {
		return bench.RunCompare(ctx, cfg, cli.StdoutFrom(ctx))
	}
	_, err = bench.Run(ctx, cfg, cli.StdoutFrom(ctx))
	return err
}
