package jobstore

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
)

func TestBackupJobsFilterAndUpdate(t *testing.T) { forEachEngine(t, testBackupJobsFilterAndUpdate) }

func testBackupJobsFilterAndUpdate(t *testing.T, open opener) {
	db := open(t)
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	states := []string{"COMPLETED", "FAILED", "RUNNING", "COMPLETED"}
	for i, st := range states {
		j := BackupJob{ID: fmt.Sprintf("J%d", i), VaultName: "v", VaultARN: "arn:v", ResourceARN: "arn:aws:s3:::b",
			ResourceType: "S3", State: "CREATED", CreatedAt: base.Add(time.Duration(i) * time.Minute), PercentDone: "0.0",
			IdempotencyToken: fmt.Sprintf("tok%d", i), BackupOptions: map[string]string{"BackupACLs": "disabled"}}
		if err := db.InsertBackupJob(ctx, j, nil); err != nil {
			t.Fatal(err)
		}
		moveBackupJob(t, db, j, "RUNNING", st)
	}
	j, err := db.BackupJob(ctx, "J2")
	if err != nil || j.BackupOptions["BackupACLs"] != "disabled" {
		t.Fatalf("read: %+v %v", j, err)
	}
	j.State, j.CompletedAt, j.BytesTransferred = "COMPLETED", base.Add(time.Hour), 42
	if ok, err := db.TransitionBackupJob(ctx, j, "RUNNING"); err != nil || !ok {
		t.Fatalf("RUNNING -> COMPLETED: %v %v", ok, err)
	}
	j.PercentDone, j.State = "50.0", "RUNNING" // progress updates leave the state alone
	if err := db.UpdateBackupJobProgress(ctx, j); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.BackupJob(ctx, "J2"); got.State != "COMPLETED" || got.PercentDone != "50.0" || got.BytesTransferred != 42 {
		t.Fatalf("after updates: %+v", got)
	}
	tests := []struct {
		name string
		f    BackupJobFilter
		want int
	}{
		{"all", BackupJobFilter{}, 4},
		{"state", BackupJobFilter{State: "COMPLETED"}, 3},
		{"states", BackupJobFilter{States: []string{"FAILED", "RUNNING"}}, 1},
		{"token", BackupJobFilter{IdempotencyToken: "tok1"}, 1},
		{"created", BackupJobFilter{CreatedAfter: base, CreatedBefore: base.Add(3 * time.Minute)}, 2},
		{"completed", BackupJobFilter{CompleteAfter: base.Add(30 * time.Minute)}, 1},
		{"vault", BackupJobFilter{VaultName: "w"}, 0},
	}
	for _, tt := range tests {
		jobs, _, err := db.ListBackupJobs(ctx, tt.f, catalog.Page{})
		if err != nil || len(jobs) != tt.want {
			t.Errorf("%s: %d jobs, want %d (%v)", tt.name, len(jobs), tt.want, err)
		}
	}
	if _, err := db.BackupJob(ctx, "nope"); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("missing job: %v", err)
	}
}

func TestBackupJobTransitions(t *testing.T) { forEachEngine(t, testBackupJobTransitions) }

func testBackupJobTransitions(t *testing.T, open opener) {
	db := open(t)
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	job := func(id, resource, state, token string) BackupJob {
		return BackupJob{ID: id, VaultName: "v", VaultARN: "arn:v", ResourceARN: resource, ResourceType: "S3",
			State: state, CreatedAt: base, PercentDone: "0.0", IdempotencyToken: token}
	}
	for _, j := range []BackupJob{job("A", "arn:aws:s3:::a", "CREATED", "t1"), job("B", "arn:aws:s3:::a", "CREATED", ""),
		job("C", "arn:aws:s3:::c", "CREATED", "")} {
		if err := db.InsertBackupJob(ctx, j, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.InsertBackupJob(ctx, job("D", "arn:aws:s3:::d", "CREATED", "t1"), nil); !errors.Is(err, catalog.ErrExists) {
		t.Fatalf("second job with token t1: %v", err)
	}
	boom := errors.New("boom")
	if err := db.InsertBackupJob(ctx, job("E", "arn:aws:s3:::e", "CREATED", ""), func(*catalog.Tx) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("insert with failing TxFunc: %v", err)
	}
	if _, err := db.BackupJob(ctx, "E"); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("job E survived its rolled-back transaction: %v", err)
	}
	from, busy := []string{"CREATED", "PENDING"}, []string{"RUNNING", "ABORTING"}
	claim := func(j BackupJob) bool {
		t.Helper()
		j.State = "RUNNING"
		ok, err := db.ClaimBackupJob(ctx, j, from, busy)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	tests := []struct {
		name string
		do   func() bool
		want bool
	}{
		{"claim A", func() bool { return claim(job("A", "arn:aws:s3:::a", "", "")) }, true},
		{"claim B while A runs", func() bool { return claim(job("B", "arn:aws:s3:::a", "", "")) }, false},
		{"claim C, other bucket", func() bool { return claim(job("C", "arn:aws:s3:::c", "", "")) }, true},
		{"claim A again", func() bool { return claim(job("A", "arn:aws:s3:::a", "", "")) }, false},
		{"A RUNNING->ABORTING", func() bool { return transition(t, db, job("A", "arn:aws:s3:::a", "ABORTING", ""), "RUNNING") }, true},
		{"claim B while A aborts", func() bool { return claim(job("B", "arn:aws:s3:::a", "", "")) }, false},
		{"A ABORTING->ABORTED", func() bool {
			return transition(t, db, job("A", "arn:aws:s3:::a", "ABORTED", ""), "RUNNING", "ABORTING")
		}, true},
		{"A ABORTED->ABORTING refused", func() bool { return transition(t, db, job("A", "arn:aws:s3:::a", "ABORTING", ""), "RUNNING") }, false},
		{"claim B after A", func() bool { return claim(job("B", "arn:aws:s3:::a", "", "")) }, true},
	}
	for _, tt := range tests {
		if got := tt.do(); got != tt.want {
			t.Fatalf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	for id, want := range map[string]string{"A": "ABORTED", "B": "RUNNING", "C": "RUNNING"} {
		if j, err := db.BackupJob(ctx, id); err != nil || j.State != want {
			t.Errorf("job %s: %s %v, want %s", id, j.State, err, want)
		}
	}
}

func transition(t *testing.T, db testDB, j BackupJob, from ...string) bool {
	t.Helper()
	ok, err := db.TransitionBackupJob(ctx, j, from...)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// moveBackupJob moves j through states, each a transition from the one
// before (the first from j's stored state); equal neighbours are skipped.
func moveBackupJob(t *testing.T, db testDB, j BackupJob, states ...string) {
	t.Helper()
	cur, err := db.BackupJob(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range states {
		if st == cur.State {
			continue
		}
		next := cur
		next.State = st
		if ok, err := db.TransitionBackupJob(ctx, next, cur.State); err != nil || !ok {
			t.Fatalf("job %s %s -> %s: %v %v", j.ID, cur.State, st, ok, err)
		}
		cur = next
	}
}
