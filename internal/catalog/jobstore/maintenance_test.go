package jobstore

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/clock"
	"github.com/cofferbackup/coffer/internal/vocab"
)

func TestMaintenanceJobs(t *testing.T) { forEachEngine(t, testMaintenanceJobs) }

// testMaintenanceJobs: a vault has at most one queued and one running
// maintenance job; every state change goes through the transition table
// and is logged; listing filters by vault and state.
func testMaintenanceJobs(t *testing.T, open opener) {
	db := open(t)
	clk := clock.NewFake(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	db.SetClock(clk)
	job := func(id, vault string) MaintenanceJob {
		clk.Advance(time.Second)
		return MaintenanceJob{ID: id, VaultName: vault, VaultARN: "arn:" + vault, State: "CREATED", Trigger: "ON_DEMAND", CreatedAt: clk.Now()}
	}
	a := job("A", "v")
	if err := db.InsertMaintenanceJob(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.InsertMaintenanceJob(ctx, job("B", "v"), nil); !errors.Is(err, catalog.ErrExists) {
		t.Fatalf("second queued job of a vault: %v, want ErrExists", err)
	}
	if err := db.InsertMaintenanceJob(ctx, job("W", "w"), nil); err != nil {
		t.Fatalf("queued job of another vault: %v", err)
	}
	run := a
	run.State, run.StartedAt, run.Owner = "RUNNING", clk.Now(), "p1"
	if ok, err := db.TransitionMaintenanceJob(ctx, run, "CREATED"); !ok || err != nil {
		t.Fatalf("claim: %v %v", ok, err)
	}
	// While A runs, one more may queue.
	c := job("C", "v")
	if err := db.InsertMaintenanceJob(ctx, c, nil); err != nil {
		t.Fatalf("queue behind a running job: %v", err)
	}
	c2 := c
	c2.State = "RUNNING"
	if ok, err := db.TransitionMaintenanceJob(ctx, c2, "CREATED"); ok || !errors.Is(err, catalog.ErrExists) {
		t.Fatalf("second running job of a vault: %v %v, want ErrExists", ok, err)
	}
	bad := run
	bad.State = "PARTIAL"
	if _, err := db.TransitionMaintenanceJob(ctx, bad, "RUNNING"); !errors.Is(err, vocab.ErrInvalidTransition) {
		t.Fatalf("RUNNING -> PARTIAL: %v", err)
	}
	done := run
	done.State, done.CompletedAt, done.StatusMessage, done.Stats = "COMPLETED", clk.Now(), "freed 10 bytes", `{"FreedBytes":10}`
	if ok, err := db.TransitionMaintenanceJob(ctx, done, "RUNNING"); !ok || err != nil {
		t.Fatalf("complete: %v %v", ok, err)
	}
	if ok, err := db.TransitionMaintenanceJob(ctx, done, "RUNNING"); ok || err != nil {
		t.Fatalf("complete twice: %v %v", ok, err)
	}
	got, err := db.MaintenanceJob(ctx, "A")
	if err != nil || got.State != "COMPLETED" || got.Stats != `{"FreedBytes":10}` || got.Owner != "p1" || !got.StartedAt.Equal(run.StartedAt) ||
		got.Trigger != "ON_DEMAND" || got.VaultARN != "arn:v" {
		t.Fatalf("job A: %+v %v", got, err)
	}
	if _, err := db.MaintenanceJob(ctx, "nope"); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("missing job: %v", err)
	}
	tests := []struct {
		name string
		f    MaintenanceJobFilter
		want string
	}{
		{"all, newest first", MaintenanceJobFilter{}, "[C W A]"},
		{"by vault", MaintenanceJobFilter{VaultName: "v"}, "[C A]"},
		{"by state", MaintenanceJobFilter{State: "CREATED"}, "[C W]"},
		{"by vault and state", MaintenanceJobFilter{VaultName: "v", State: "COMPLETED"}, "[A]"},
		{"by states", MaintenanceJobFilter{States: []string{"RUNNING", "COMPLETED"}}, "[A]"},
	}
	for _, tt := range tests {
		jobs, _, err := db.ListMaintenanceJobs(ctx, tt.f, catalog.Page{})
		var ids []string
		for _, j := range jobs {
			ids = append(ids, j.ID)
		}
		if err != nil || fmt.Sprint(ids) != tt.want {
			t.Errorf("%s: %v %v, want %s", tt.name, ids, err, tt.want)
		}
	}
	first, tok, err := db.ListMaintenanceJobs(ctx, MaintenanceJobFilter{}, catalog.Page{Max: 2})
	if err != nil || len(first) != 2 || tok == "" {
		t.Fatalf("first page: %d %q %v", len(first), tok, err)
	}
	evs, _, err := db.ListJobEvents(ctx, catalog.JobEventFilter{JobID: "A"}, catalog.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, e := range evs {
		if e.Kind != vocab.KindMaintenance {
			t.Errorf("event kind %s", e.Kind)
		}
		steps = append(steps, fmt.Sprintf("%s>%s", e.From, e.To))
	}
	if fmt.Sprint(steps) != "[>CREATED CREATED>RUNNING RUNNING>COMPLETED]" {
		t.Fatalf("events of A: %v", steps)
	}
}
