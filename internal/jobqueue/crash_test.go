package jobqueue

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver"
)

// Environment of the crash child: a process that opens a Queue, enqueues
// the jobs, prints "running <id>" from each handler and never returns, so
// the test can kill it mid-job.
const (
	envChild  = "JOBQUEUE_CRASH_CHILD" // "sqlite" or "postgres"
	envTarget = "JOBQUEUE_CRASH_TARGET"
	envSchema = "JOBQUEUE_CRASH_SCHEMA"
)

func TestMain(m *testing.M) {
	if kind := os.Getenv(envChild); kind != "" {
		if err := crashChild(kind, os.Getenv(envTarget), os.Getenv(envSchema)); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(2)
		}
		return
	}
	os.Exit(m.Run())
}

// crashJobs are enqueued by the child: id -> max attempts.
var crashJobs = map[string]int{"fail-me": 1, "rerun-me": 2}

func crashChild(kind, target, schema string) error {
	ctx := context.Background()
	block := func(_ context.Context, jobID string) error {
		fmt.Printf("running %s\n", jobID)
		select {} // until killed
	}
	cfg := Config{Workers: len(crashJobs), Kinds: testKinds(block), Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))}
	var q *Queue
	if kind == "sqlite" {
		db, err := openSQLiteDB(target)
		if err != nil {
			return err
		}
		if q, err = OpenSQLite(ctx, db, cfg); err != nil {
			return err
		}
	} else {
		pool, err := pgxpool.New(ctx, target)
		if err != nil {
			return err
		}
		cfg.Schema = schema
		if q, err = OpenPostgres(ctx, pool, cfg); err != nil {
			return err
		}
	}
	for id, attempts := range crashJobs {
		if err := q.Enqueue(ctx, argsOf(KindBackup, id), MaxAttempts(attempts)); err != nil {
			return err
		}
	}
	if err := q.Start(ctx); err != nil {
		return err
	}
	select {}
}

// runCrashChild starts the child on d, waits until all its handlers run,
// and kills it. It returns when the child is dead.
func runCrashChild(t *testing.T, d *testDB) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	target := d.path
	if d.kind == "postgres" {
		target = d.url
	}
	cmd.Env = append(os.Environ(), envChild+"="+d.kind, envTarget+"="+target, envSchema+"="+d.schema)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	running := make(chan error, 1)
	go func() {
		sc, seen := bufio.NewScanner(out), 0
		for seen < len(crashJobs) && sc.Scan() {
			if strings.HasPrefix(sc.Text(), "running ") {
				seen++
			}
		}
		if seen < len(crashJobs) {
			running <- fmt.Errorf("child stopped after %d running jobs", seen)
			return
		}
		running <- nil
	}()
	select {
	case err = <-running:
	case <-time.After(30 * time.Second):
		err = fmt.Errorf("child's handlers did not start")
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if err != nil {
		t.Fatalf("%v; stderr:\n%s", err, stderr.String())
	}
}

// TestCrashRescue: a process dies (SIGKILL) while running two jobs. Once
// RescueStuckJobsAfter has passed, the leader's rescuer discards the job
// with one attempt (coffer's "fail interrupted jobs") and re-runs the one
// with two attempts (coffer's "re-run interrupted jobs").
func TestCrashRescue(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *testDB) {
		ctx := context.Background()
		runCrashChild(t, d)
		killedAt := time.Now()
		rec := newRecorder()
		q := d.open(t, Config{
			Kinds:                rec.handlers(nil),
			JobTimeout:           300 * time.Millisecond,
			RescueStuckJobsAfter: time.Second,
			RetryDelay:           func(int) time.Duration { return 0 },
		})
		for id := range crashJobs {
			if info := waitState(t, q, KindBackup, id, StateRunning); info.Attempt != 1 {
				t.Fatalf("%s after crash: %+v", id, info)
			}
		}
		// The dead child was the leader; its lease (15 s) would have to
		// expire before another Queue leads. Expire it now.
		future := time.Now().Add(time.Hour)
		if _, err := q.exec.LeaderDeleteExpired(ctx, &riverdriver.LeaderDeleteExpiredParams{Now: &future, Schema: d.schema}); err != nil {
			t.Fatal(err)
		}
		// The rescuer checks once when this Queue becomes leader, then every
		// 30 s: start after the jobs are RescueStuckJobsAfter old.
		time.Sleep(time.Until(killedAt.Add(1200 * time.Millisecond)))
		start(t, q)
		failed := waitState(t, q, KindBackup, "fail-me", StateDiscarded)
		if len(failed.Errors) != 1 || !strings.Contains(failed.Errors[0], "Stuck job rescued") {
			t.Fatalf("fail-me: %+v", failed)
		}
		rec.waitCall(t, "rerun-me")
		rerun := waitState(t, q, KindBackup, "rerun-me", StateCompleted)
		if rerun.Attempt != 2 || len(rerun.AttemptedBy) != 2 || rerun.AttemptedBy[1] != q.ClientID() {
			t.Fatalf("rerun-me: %+v", rerun)
		}
		if rec.n("fail-me") != 0 {
			t.Fatal("fail-me ran again")
		}
		t.Logf("rescued and re-run %v after the crash", time.Since(killedAt))
	})
}
