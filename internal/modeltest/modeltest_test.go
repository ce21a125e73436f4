package modeltest

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/cofferbackup/coffer/internal/coffertest"
	"github.com/cofferbackup/coffer/internal/testserver"
)

func TestMain(m *testing.M) { testserver.Main(m) }

var ctx = context.Background()

// target is one configuration the model runs against, with its share of
// COFFER_MODEL_DURATION.
type target struct {
	name, s3, engine string
	share            float64
}

var targets = []target{
	{"minio-sqlite", testserver.MinIO, "sqlite", 0.5},
	{"minio-postgres", testserver.MinIO, "postgres", 0.25},
	{"versitygw-sqlite", testserver.VersityGW, "sqlite", 0.25},
}

// config is read from the environment:
//
//	COFFER_MODEL_SEED      the seed (default: random, printed)
//	COFFER_MODEL_DURATION  wall time of the whole test, shared by the targets (default 2m)
//	COFFER_MODEL_OPS       stop each target after this many operations (replays)
type config struct {
	seed     uint64
	duration time.Duration
	maxOps   int
}

func readConfig(t *testing.T) config {
	t.Helper()
	c := config{duration: 2 * time.Minute}
	if s := os.Getenv("COFFER_MODEL_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("COFFER_MODEL_SEED=%q: %v", s, err)
		}
		c.seed = v
	} else {
		var b [8]byte
		_, _ = crand.Read(b[:])
		c.seed = binary.LittleEndian.Uint64(b[:]) >> 1 // printable without sign surprises
	}
	if s := os.Getenv("COFFER_MODEL_DURATION"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("COFFER_MODEL_DURATION=%q: %v", s, err)
		}
		c.duration = d
	}
	if s := os.Getenv("COFFER_MODEL_OPS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("COFFER_MODEL_OPS=%q: want a positive number", s)
		}
		c.maxOps = n
	}
	return c
}

// TestModel runs random operations against a whole coffer (the service
// behind its HTTP API, driven by the official SDK client) on each target,
// and compares every restore with the model. A failure prints the seed,
// the command that replays it and the operation log.
func TestModel(t *testing.T) {
	cfg := readConfig(t)
	t.Logf("model test: COFFER_MODEL_SEED=%d, %v in all", cfg.seed, cfg.duration)
	for i, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			r := newRunner(t, cfg, tg, uint64(i))
			budget := time.Duration(float64(cfg.duration) * tg.share)
			r.loop(time.Now().Add(budget))
		})
	}
}

// counts are what a run did; the final log line reports them.
type counts struct {
	ops, puts, large, zero, deletes, markerOnMarker, versionDeletes, tagChanges int
	backups, restores, restoresItems, restoresAll, rpDeleted, maintenance       int
	restarts, restartsInJob, versionsCompared, sourceChecks                     int
	resumed                                                                     int // restores resumed after a restart
}

func (c counts) String() string {
	return fmt.Sprintf("%d operations: %d puts (%d large, %d zero-byte), %d deletes, %d with a marker on a marker, "+
		"%d version deletes, %d tag changes; %d backups, %d restores (%d with items, %d all versions), "+
		"%d versions compared in restores, %d source checks, %d recovery points deleted, %d maintenance runs, "+
		"%d restarts (%d during a job), %d restores resumed",
		c.ops, c.puts, c.large, c.zero, c.deletes, c.markerOnMarker, c.versionDeletes, c.tagChanges,
		c.backups, c.restores, c.restoresItems, c.restoresAll, c.versionsCompared, c.sourceChecks,
		c.rpDeleted, c.maintenance, c.restarts, c.restartsInJob, c.resumed)
}

// runner is one target's run: coffer, the S3 server, the model and the log.
type runner struct {
	t    *testing.T
	tg   target
	cfg  config
	rng  *rand.Rand
	env  *coffertest.Env
	mc   *minio.Client
	caps caps

	buckets []*bucketModel
	vaults  []string
	rps     []*recoveryPoint // live, in creation order
	deleted []*recoveryPoint
	keys    []string // the key pool: probed hard keys and plain ones

	op       int
	log      []string
	n        counts
	maxLarge int
}

func newRunner(t *testing.T, cfg config, tg target, stream uint64) *runner {
	r := &runner{t: t, tg: tg, cfg: cfg, rng: rand.New(rand.NewPCG(cfg.seed, stream))}
	t.Cleanup(r.reportFailure)
	db := coffertest.Database(t, tg.engine)
	r.env = coffertest.Start(t, coffertest.Options{S3Kind: tg.s3, Database: db, Parallelism: 4, MaxJobs: 2})
	r.mc = r.env.S3.Client(t)
	r.caps = probe(t, r.env.S3)
	r.keys = append(r.caps.keys, plainKeys...)
	r.maxLarge = 1 + int(cfg.duration/(10*time.Minute))
	for i, versioned := range []bool{true, true, false} {
		if !versioned && !r.caps.unversioned {
			continue
		}
		name := r.env.S3.NewBucket(t, versioned)
		r.buckets = append(r.buckets, newBucketModel(name, versioned))
		r.logf("bucket %d %s versioned=%v", i, name, versioned)
	}
	for _, v := range []string{"model-a", "model-b"} {
		r.createVault(v)
	}
	return r
}

// logf appends a line to the operation log.
func (r *runner) logf(format string, args ...any) {
	r.log = append(r.log, fmt.Sprintf("#%d ", r.op)+fmt.Sprintf(format, args...))
}

// fatalf fails the run; reportFailure prints how to replay it.
func (r *runner) fatalf(format string, args ...any) {
	r.t.Helper()
	r.t.Fatalf("operation #%d: "+format, append([]any{r.op}, args...)...)
}

// reportFailure prints the seed, the replay command and the operation log
// (the last 300 lines; all of them in a file kept in the temp folder).
func (r *runner) reportFailure() {
	if !r.t.Failed() {
		return
	}
	replay := fmt.Sprintf("COFFER_MODEL_SEED=%d COFFER_MODEL_OPS=%d go test -race -run 'TestModel/%s$' ./internal/modeltest/",
		r.cfg.seed, r.op, r.tg.name)
	f, err := os.CreateTemp("", "coffer-model-"+r.tg.name+"-*.log")
	where := ""
	if err == nil {
		_, _ = f.WriteString(strings.Join(r.log, "\n") + "\n")
		_ = f.Close()
		where = " (full log: " + filepath.ToSlash(f.Name()) + ")"
	}
	lines := r.log
	if len(lines) > 300 {
		lines = lines[len(lines)-300:]
	}
	r.t.Logf("model test failed at operation #%d, seed %d; replay with:\n  %s\noperation log%s:\n%s\n%s",
		r.op, r.cfg.seed, replay, where, strings.Join(lines, "\n"), r.n)
}

// loop runs operations until the deadline (or COFFER_MODEL_OPS), then
// restores every vault's oldest and newest recovery points one last time.
func (r *runner) loop(deadline time.Time) {
	for r.op = 1; ; r.op++ {
		if r.cfg.maxOps > 0 && r.op > r.cfg.maxOps {
			break
		}
		if r.cfg.maxOps == 0 && time.Now().After(deadline) {
			break
		}
		r.step()
		r.n.ops++
	}
	r.final()
	r.t.Logf("%s (seed %d): %s", r.tg.name, r.cfg.seed, r.n)
}
