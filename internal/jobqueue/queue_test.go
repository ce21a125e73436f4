package jobqueue

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestEnqueueRunsOnce(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *testDB) {
		ctx := context.Background()
		rec := newRecorder()
		q := d.open(t, Config{Kinds: rec.handlers(nil), Workers: 2})
		for range 2 {
			if err := q.Enqueue(ctx, argsOf(KindBackup, "job-1")); err != nil {
				t.Fatal(err)
			}
		}
		// Same id, other kind: another job.
		if err := q.Enqueue(ctx, argsOf(KindRestore, "job-1")); err != nil {
			t.Fatal(err)
		}
		start(t, q)
		waitState(t, q, KindBackup, "job-1", StateCompleted)
		waitState(t, q, KindRestore, "job-1", StateCompleted)
		// Enqueued again after it ran (a crash before coffer recorded it).
		if err := q.Enqueue(ctx, argsOf(KindBackup, "job-1")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
		if n := rec.n("job-1"); n != 2 {
			t.Fatalf("handler ran %d times for job-1 (backup + restore), want 2", n)
		}
		info := waitState(t, q, KindBackup, "job-1", StateCompleted)
		if info.Attempt != 1 || info.MaxAttempts != 1 {
			t.Fatalf("info %+v: want attempt 1 of 1", info)
		}
		if err := q.Enqueue(ctx, vacuumArgs{JobID: "x"}); err == nil {
			t.Fatal("unknown kind accepted")
		}
		if err := q.Enqueue(ctx, backupArgs{}); err == nil {
			t.Fatal("empty job id accepted")
		}
		if _, err := q.Lookup(ctx, KindBackup, "nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("lookup of unknown job: %v", err)
		}
	})
}

// TestEnqueueTx: a job enqueued in a rolled-back transaction does not
// exist; one in a committed transaction runs. On SQLite this runs on a
// one-connection pool shared with River, like coffer's catalog.
func TestEnqueueTx(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *testDB) {
		ctx := context.Background()
		rec := newRecorder()
		q := d.open(t, Config{Kinds: rec.handlers(nil)})
		start(t, q)
		for _, commit := range []bool{false, true} {
			id := map[bool]string{false: "rolled-back", true: "committed"}[commit]
			if d.kind == "sqlite" {
				tx, err := d.sqlite.BeginTx(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				if err := q.EnqueueTx(ctx, tx, argsOf(KindBackup, id)); err != nil {
					t.Fatal(err)
				}
				if err := q.EnqueuePgxTx(ctx, nil, argsOf(KindBackup, id)); err == nil {
					t.Fatal("EnqueuePgxTx accepted on SQLite")
				}
				finishTx(t, commit, tx.Commit, tx.Rollback)
			} else {
				tx, err := d.pool.Begin(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if err := q.EnqueuePgxTx(ctx, tx, argsOf(KindBackup, id)); err != nil {
					t.Fatal(err)
				}
				finishTx(t, commit, func() error { return tx.Commit(ctx) }, func() error { return tx.Rollback(ctx) })
			}
		}
		rec.waitCall(t, "committed")
		waitState(t, q, KindBackup, "committed", StateCompleted)
		if _, err := q.Lookup(ctx, KindBackup, "rolled-back"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("rolled-back job: %v", err)
		}
	})
}

func finishTx(t *testing.T, commit bool, commitFn, rollbackFn func() error) {
	t.Helper()
	fn := rollbackFn
	if commit {
		fn = commitFn
	}
	if err := fn(); err != nil {
		t.Fatal(err)
	}
}

// TestDurableAcrossRestart: a job enqueued while no Queue runs survives a
// restart and runs on the next process.
func TestDurableAcrossRestart(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *testDB) {
		ctx := context.Background()
		rec := newRecorder()
		q1 := d.open(t, Config{Kinds: rec.handlers(nil)})
		if err := q1.Enqueue(ctx, argsOf(KindRestore, "restore-7")); err != nil {
			t.Fatal(err)
		}
		stopQueue(t, q1)
		d.restart(t)
		q2 := d.open(t, Config{Kinds: rec.handlers(nil)})
		if info := waitState(t, q2, KindRestore, "restore-7", StateAvailable); info.Attempt != 0 {
			t.Fatalf("ran before start: %+v", info)
		}
		start(t, q2)
		rec.waitCall(t, "restore-7")
		waitState(t, q2, KindRestore, "restore-7", StateCompleted)
	})
}

// TestCancel: cancelling a running job cancels its handler's ctx and ends
// the job cancelled although it had attempts left; a queued job cancelled
// never runs.
func TestCancel(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *testDB) {
		ctx := context.Background()
		rec := newRecorder()
		cancelled := make(chan bool, 1)
		q := d.open(t, Config{Kinds: rec.handlers(func(ctx context.Context, _ string) error {
			<-ctx.Done()
			cancelled <- IsCancelled(ctx)
			return ctx.Err()
		}), RetryDelay: func(int) time.Duration { return 0 }})
		if err := q.Enqueue(ctx, argsOf(KindBackup, "queued")); err != nil {
			t.Fatal(err)
		}
		if err := q.Cancel(ctx, KindBackup, "queued"); err != nil {
			t.Fatal(err)
		}
		waitState(t, q, KindBackup, "queued", StateCancelled)
		if err := q.Enqueue(ctx, argsOf(KindBackup, "queued")); err != nil { // no new job
			t.Fatal(err)
		}
		if err := q.Enqueue(ctx, argsOf(KindBackup, "running"), MaxAttempts(3)); err != nil {
			t.Fatal(err)
		}
		start(t, q)
		rec.waitCall(t, "running")
		waitState(t, q, KindBackup, "running", StateRunning)
		began := time.Now()
		if err := q.Cancel(ctx, KindBackup, "running"); err != nil {
			t.Fatal(err)
		}
		select {
		case byCancel := <-cancelled:
			if !byCancel {
				t.Fatal("handler ctx ended, but IsCancelled is false")
			}
			t.Logf("handler ctx cancelled %v after Cancel", time.Since(began))
		case <-time.After(10 * time.Second):
			t.Fatal("handler ctx not cancelled")
		}
		info := waitState(t, q, KindBackup, "running", StateCancelled)
		waitState(t, q, KindBackup, "queued", StateCancelled)
		if info.Attempt != 1 || rec.n("running") != 1 || rec.n("queued") != 0 {
			t.Fatalf("info %+v, runs %d (queued: %d): want one attempt", info, rec.n("running"), rec.n("queued"))
		}
		if err := q.Cancel(ctx, KindBackup, "unknown"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("cancel unknown: %v", err)
		}
	})
}

// TestRetries: a failing job runs once with one attempt (the default) and
// three times with three.
func TestRetries(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *testDB) {
		ctx := context.Background()
		rec := newRecorder()
		q := d.open(t, Config{
			Kinds: rec.handlers(func(context.Context, string) error {
				return errors.New("bucket unreachable")
			}),
			RetryDelay: func(attempt int) time.Duration { return time.Duration(attempt) * 10 * time.Millisecond },
		})
		if err := q.Enqueue(ctx, argsOf(KindBackup, "once")); err != nil {
			t.Fatal(err)
		}
		if err := q.Enqueue(ctx, argsOf(KindBackup, "thrice"), MaxAttempts(3)); err != nil {
			t.Fatal(err)
		}
		start(t, q)
		once := waitState(t, q, KindBackup, "once", StateDiscarded)
		thrice := waitState(t, q, KindBackup, "thrice", StateDiscarded)
		if rec.n("once") != 1 || once.Attempt != 1 || len(once.Errors) != 1 {
			t.Fatalf("once: %d runs, %+v", rec.n("once"), once)
		}
		if rec.n("thrice") != 3 || thrice.Attempt != 3 || len(thrice.Errors) != 3 {
			t.Fatalf("thrice: %d runs, %+v", rec.n("thrice"), thrice)
		}
		if !strings.Contains(thrice.Errors[2], "bucket unreachable") {
			t.Fatalf("errors %q", thrice.Errors)
		}
	})
}

// TestStopWaitsThenCancels: Stop lets a running handler finish within
// StopTimeout, and cancels one that takes longer.
func TestStopWaitsThenCancels(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *testDB) {
		ctx := context.Background()
		rec := newRecorder()
		release := make(chan struct{})
		q := d.open(t, Config{Workers: 2, StopTimeout: time.Second, Kinds: rec.handlers(func(ctx context.Context, id string) error {
			if id == "quick" {
				<-release
				return nil
			}
			<-ctx.Done()
			return ctx.Err()
		})})
		for _, id := range []string{"quick", "slow"} {
			if err := q.Enqueue(ctx, argsOf(KindBackup, id)); err != nil {
				t.Fatal(err)
			}
		}
		start(t, q)
		rec.waitCall(t, "quick")
		rec.waitCall(t, "slow")
		waitState(t, q, KindBackup, "slow", StateRunning)
		time.AfterFunc(200*time.Millisecond, func() { close(release) })
		began := time.Now()
		stopQueue(t, q)
		if took := time.Since(began); took < time.Second || took > 10*time.Second {
			t.Fatalf("Stop took %v, want about StopTimeout (1s)", took)
		}
		waitState(t, q, KindBackup, "quick", StateCompleted)
		// One attempt, cancelled by shutdown: discarded, for coffer to fail.
		waitState(t, q, KindBackup, "slow", StateDiscarded)
	})
}

// TestLeader: of two started Queues on one database, exactly one leads.
func TestLeader(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *testDB) {
		ctx := context.Background()
		rec := newRecorder()
		a := d.open(t, Config{Kinds: rec.handlers(nil)})
		b := d.open(t, Config{Kinds: rec.handlers(nil)})
		if lead, err := a.IsLeader(ctx); err != nil || lead {
			t.Fatalf("stopped queue leads: %v %v", lead, err)
		}
		start(t, a)
		start(t, b)
		deadline := time.Now().Add(15 * time.Second)
		for {
			la, errA := a.IsLeader(ctx)
			lb, errB := b.IsLeader(ctx)
			if errA != nil || errB != nil {
				t.Fatal(errA, errB)
			}
			if la && lb {
				t.Fatal("both lead")
			}
			if la || lb {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("no leader elected")
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

func noop(context.Context) error { return nil }

func TestConfigErrors(t *testing.T) {
	if err := Register(newRecorder().handlers(nil), func(context.Context, backupArgs) error { return nil }); err == nil {
		t.Error("a kind registered twice was accepted")
	}
	d := newTestDB(t, "sqlite")
	ok := newRecorder().handlers(nil)
	for name, cfg := range map[string]Config{
		"no kinds":         {},
		"empty kinds":      {Kinds: NewKinds()},
		"bad periodic":     {Kinds: ok, Periodic: []Periodic{{Name: "p"}}},
		"periodic twice":   {Kinds: ok, Periodic: []Periodic{{Name: "p", Every: time.Second, Run: noop}, {Name: "p", Every: time.Second, Run: noop}}},
		"schema":           {Kinds: ok, Schema: "s"},
		"rescue < timeout": {Kinds: ok, JobTimeout: time.Hour, RescueStuckJobsAfter: time.Minute},
	} {
		if _, err := d.tryOpen(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestSnooze: a snoozed job runs again later without using an attempt, so
// a job with one attempt can wait for a busy resource any number of times.
func TestSnooze(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *testDB) {
		ctx := context.Background()
		rec := newRecorder()
		q := d.open(t, Config{PollInterval: 50 * time.Millisecond, Kinds: rec.handlers(func(_ context.Context, id string) error {
			if rec.n(id) < 3 {
				return Snooze(10 * time.Millisecond)
			}
			return nil
		})})
		if err := q.Enqueue(ctx, argsOf(KindBackup, "busy")); err != nil {
			t.Fatal(err)
		}
		start(t, q)
		info := waitState(t, q, KindBackup, "busy", StateCompleted)
		if rec.n("busy") != 3 || info.Attempt != 1 || info.MaxAttempts != 1 || len(info.Errors) != 0 {
			t.Fatalf("after 2 snoozes: %d calls, %+v", rec.n("busy"), info)
		}
	})
}

// vacuumArgs is a kind no test Queue registers.
type vacuumArgs struct {
	JobID string `json:"job_id"`
}

func (vacuumArgs) Kind() string          { return "vacuum" }
func (a vacuumArgs) CofferJobID() string { return a.JobID }
