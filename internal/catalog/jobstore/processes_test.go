package jobstore

import (
	"errors"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
)

func TestProcessLiveness(t *testing.T) { forEachEngine(t, testProcessLiveness) }

func testProcessLiveness(t *testing.T, open opener) {
	db := open(t)
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, id := range []string{"alive", "silent", "stopped"} {
		if err := db.RegisterProcess(ctx, catalog.Process{ID: id, Host: "h", PID: 1, StartedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.StopProcess(ctx, "stopped"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if err := db.Heartbeat(ctx, "alive"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id      string
		silence time.Duration
		want    bool
	}{
		{"alive", 200 * time.Millisecond, true},
		{"silent", 200 * time.Millisecond, false}, // beat 300 ms ago
		{"silent", time.Minute, true},
		{"stopped", time.Minute, false},
		{"unknown", time.Minute, false},
	}
	for _, tt := range tests {
		got, err := db.ProcessAlive(ctx, tt.id, tt.silence)
		if err != nil || got != tt.want {
			t.Errorf("%s within %v: alive=%v err=%v, want %v", tt.id, tt.silence, got, err, tt.want)
		}
	}
	p, err := db.Process(ctx, "alive")
	if err != nil || p.Host != "h" || !p.StartedAt.Equal(now) || p.BeatAt.IsZero() {
		t.Fatalf("process row: %+v %v", p, err)
	}
	// silent owns a running job: it is kept; stopped goes.
	j := BackupJob{ID: "J", VaultName: "v", VaultARN: "arn:v", ResourceARN: "arn:aws:s3:::b", ResourceType: "S3", State: "CREATED", PercentDone: "0.0"}
	if err := db.InsertBackupJob(ctx, j, nil); err != nil {
		t.Fatal(err)
	}
	j.State, j.Owner = "RUNNING", "silent"
	if ok, err := db.ClaimBackupJob(ctx, j, []string{"CREATED"}, []string{"RUNNING"}); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if got, _ := db.BackupJob(ctx, "J"); got.Owner != "silent" {
		t.Fatalf("owner %q, want silent", got.Owner)
	}
	time.Sleep(300 * time.Millisecond)
	if err := db.Heartbeat(ctx, "alive"); err != nil {
		t.Fatal(err)
	}
	n, err := db.PruneProcesses(ctx, 250*time.Millisecond)
	if err != nil || n != 1 {
		t.Fatalf("pruned %d (%v), want 1", n, err)
	}
	if _, err := db.Process(ctx, "stopped"); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("stopped process kept: %v", err)
	}
	if _, err := db.Process(ctx, "silent"); err != nil {
		t.Fatalf("silent process with a running job pruned: %v", err)
	}
}
