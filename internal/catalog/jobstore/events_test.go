package jobstore

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/clock"
	"github.com/cofferbackup/coffer/internal/vocab"
)

func TestJobEventsRecordEveryStateChange(t *testing.T) {
	forEachEngine(t, testJobEventsRecordEveryStateChange)
}

func testJobEventsRecordEveryStateChange(t *testing.T, open opener) {
	db := open(t)
	clk := clock.NewFake(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	db.SetClock(clk)
	j := BackupJob{ID: "J", VaultName: "v", VaultARN: "arn:v", ResourceARN: "arn:aws:s3:::b", ResourceType: "S3",
		State: "CREATED", CreatedAt: clk.Now(), PercentDone: "0.0"}
	if err := db.InsertBackupJob(ctx, j, nil); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		to, msg string
		from    []string
		want    bool
	}{
		{"PENDING", "waiting for the bucket", []string{"CREATED"}, true},
		{"PENDING", "still waiting", []string{"PENDING"}, true}, // message only: no event
		{"RUNNING", "", []string{"CREATED"}, false},             // stored state is not in from
		{"RUNNING", "", []string{"CREATED", "PENDING"}, true},
		{"COMPLETED", "done", []string{"RUNNING"}, true},
	}
	for i, st := range steps {
		clk.Advance(time.Minute)
		next := j
		next.State, next.StatusMessage = st.to, st.msg
		ok, err := db.TransitionBackupJob(ctx, next, st.from...)
		if err != nil || ok != st.want {
			t.Fatalf("step %d (%s): ok=%v err=%v, want ok=%v", i, st.to, ok, err, st.want)
		}
	}
	evs, _, err := db.ListJobEvents(ctx, catalog.JobEventFilter{JobID: "J"}, catalog.Page{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	want := []catalog.JobEvent{
		{JobID: "J", Seq: 1, Kind: vocab.KindBackup, From: "", To: "CREATED", At: t0},
		{JobID: "J", Seq: 2, Kind: vocab.KindBackup, From: "CREATED", To: "PENDING", At: t0.Add(time.Minute), Message: "waiting for the bucket"},
		{JobID: "J", Seq: 3, Kind: vocab.KindBackup, From: "PENDING", To: "RUNNING", At: t0.Add(4 * time.Minute)},
		{JobID: "J", Seq: 4, Kind: vocab.KindBackup, From: "RUNNING", To: "COMPLETED", At: t0.Add(5 * time.Minute), Message: "done"},
	}
	if fmt.Sprint(evs) != fmt.Sprint(want) {
		t.Fatalf("events:\n got %v\nwant %v", evs, want)
	}
}

func TestTransitionTableIsEnforced(t *testing.T) { forEachEngine(t, testTransitionTableIsEnforced) }

func testTransitionTableIsEnforced(t *testing.T, open opener) {
	db := open(t)
	j := BackupJob{ID: "J", VaultName: "v", VaultARN: "arn:v", ResourceARN: "arn:aws:s3:::b", ResourceType: "S3",
		State: "CREATED", PercentDone: "0.0"}
	if err := db.InsertBackupJob(ctx, j, nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ from, to string }{
		{"CREATED", "COMPLETED"}, // never ran
		{"CREATED", "ABORTING"},  // only a running job is aborting
	}
	for _, tt := range tests {
		next := j
		next.State = tt.to
		if ok, err := db.TransitionBackupJob(ctx, next, tt.from); ok || !errors.Is(err, vocab.ErrInvalidTransition) {
			t.Errorf("%s -> %s: ok=%v err=%v, want ErrInvalidTransition", tt.from, tt.to, ok, err)
		}
	}
	bad := j
	bad.ID, bad.State = "K", "COMPLETED"
	if err := db.InsertBackupJob(ctx, bad, nil); !errors.Is(err, vocab.ErrInvalidTransition) {
		t.Errorf("insert COMPLETED: %v, want ErrInvalidTransition", err)
	}
	r := RestoreJob{ID: "R", RecoveryPointARN: "arn:rp", VaultName: "v", VaultARN: "arn:v", ResourceType: "S3", Status: "PENDING", PercentDone: "0.0"}
	if err := db.InsertRestoreJob(ctx, r, nil); err != nil {
		t.Fatal(err)
	}
	r.Status = "COMPLETED"
	if ok, err := db.TransitionRestoreJob(ctx, r, "PENDING"); ok || !errors.Is(err, vocab.ErrInvalidTransition) {
		t.Errorf("restore PENDING -> COMPLETED: ok=%v err=%v", ok, err)
	}
	evs, _, err := db.ListJobEvents(ctx, catalog.JobEventFilter{}, catalog.Page{})
	if err != nil || len(evs) != 2 {
		t.Fatalf("refused transitions left events: %v %v", evs, err)
	}
}

// A stop and a job's end racing: exactly one wins, and the log holds
// exactly the changes that happened.
func TestConcurrentTransitionsLogOnceEach(t *testing.T) {
	forEachEngine(t, testConcurrentTransitionsLogOnceEach)
}

func testConcurrentTransitionsLogOnceEach(t *testing.T, open opener) {
	db := open(t)
	const n = 20
	for i := range n {
		j := BackupJob{ID: fmt.Sprintf("J%02d", i), VaultName: "v", VaultARN: "arn:v", ResourceARN: fmt.Sprintf("arn:aws:s3:::b%02d", i),
			ResourceType: "S3", State: "CREATED", PercentDone: "0.0"}
		if err := db.InsertBackupJob(ctx, j, nil); err != nil {
			t.Fatal(err)
		}
		j.State = "RUNNING"
		if ok, err := db.ClaimBackupJob(ctx, j, []string{"CREATED"}, []string{"RUNNING"}); err != nil || !ok {
			t.Fatalf("claim %s: %v %v", j.ID, ok, err)
		}
		var wg sync.WaitGroup
		wins := make(chan string, 2)
		for _, to := range []string{"ABORTING", "COMPLETED"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				next := j
				next.State = to
				ok, err := db.TransitionBackupJob(ctx, next, "RUNNING")
				if err != nil {
					t.Error(err)
				}
				if ok {
					wins <- to
				}
			}()
		}
		wg.Wait()
		close(wins)
		var won []string
		for w := range wins {
			won = append(won, w)
		}
		if len(won) != 1 {
			t.Fatalf("job %s: winners %v, want exactly one", j.ID, won)
		}
		evs, _, err := db.ListJobEvents(ctx, catalog.JobEventFilter{JobID: j.ID}, catalog.Page{})
		if err != nil || len(evs) != 3 || string(evs[2].To) != won[0] || evs[2].Seq != 3 {
			t.Fatalf("job %s events %v (%v), want CREATED, RUNNING, %s", j.ID, evs, err, won[0])
		}
	}
}
