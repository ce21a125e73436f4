package jobcmd

import (
	"strings"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/cli/clitest"
	"github.com/cofferbackup/coffer/internal/testserver"
)

type maintenanceJSON struct {
	MaintenanceJobId, BackupVaultName, State, Trigger, CreationDate, CompletionDate string
	MaintenanceStats                                                                map[string]any
}

// TestMaintenanceCommands drives `coffer maintenance` against a real
// server: a deleted recovery point's maintenance job is listed, an
// on-demand one runs, a finished one cannot be stopped.
func TestMaintenanceCommands(t *testing.T) {
	// No periodic maintenance: a PERIODIC job queued when the leader is
	// elected would absorb the on-demand start below.
	endpoint, creds, s3, _ := clitest.StartServerArgs(t, t.TempDir(), nil, "--maintenance-interval", "-1s")
	e := clitest.NewEnv(t, endpoint, creds)
	c := s3.Client(t)
	vault := testserver.UniqueBucketName("mvault")
	e.Run("vault", "create", vault)
	src := s3.NewBucket(t, true)
	clitest.PutObjects(t, c, src, map[string]string{"a.txt": "alpha", "b.bin": strings.Repeat("b", 100_000)})
	job := clitest.BackupAndWait(t, e, vault, src, DefaultIAMRoleARN)
	e.Run("recovery-point", "delete", "--vault", vault, job.RecoveryPointArn)

	var list struct{ MaintenanceJobs []maintenanceJSON }
	e.RunJSON(&list, "maintenance", "list", "--vault", vault)
	if len(list.MaintenanceJobs) != 1 || list.MaintenanceJobs[0].Trigger != "RECOVERY_POINT_DELETED" || list.MaintenanceJobs[0].BackupVaultName != vault {
		t.Fatalf("maintenance list after a deletion: %+v", list)
	}
	deleted := waitMaintenanceCLI(t, e, list.MaintenanceJobs[0].MaintenanceJobId)
	if freed, _ := deleted.MaintenanceStats["FreedBytes"].(float64); freed <= 0 || deleted.CompletionDate == "" {
		t.Fatalf("maintenance after a deletion: %+v", deleted)
	}

	var started maintenanceJSON
	e.RunJSON(&started, "maintenance", "start", "--vault", vault)
	if started.MaintenanceJobId == "" || started.Trigger != "ON_DEMAND" {
		t.Fatalf("maintenance start: %+v", started)
	}
	waitMaintenanceCLI(t, e, started.MaintenanceJobId)
	e.RunJSON(&list, "maintenance", "list", "--vault", vault, "--state", "COMPLETED")
	if len(list.MaintenanceJobs) != 2 || list.MaintenanceJobs[0].MaintenanceJobId != started.MaintenanceJobId {
		t.Fatalf("maintenance list --state COMPLETED: %+v", list)
	}
	table := e.Run("maintenance", "list", "--vault", vault)
	if !strings.Contains(table, started.MaintenanceJobId) || !strings.Contains(table, "ON_DEMAND") || !strings.Contains(table, "FREED") {
		t.Fatalf("maintenance list table:\n%s", table)
	}
	if out := e.Run("maintenance", "describe", started.MaintenanceJobId); !strings.Contains(out, "COMPLETED") || !strings.Contains(out, "LiveRecoveryPoints") || strings.Contains(out, "e+") {
		t.Fatalf("maintenance describe:\n%s", out)
	}

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"stop a finished job", []string{"maintenance", "stop", started.MaintenanceJobId}, "InvalidRequestException"},
		{"describe an unknown job", []string{"maintenance", "describe", "NOPE"}, "ResourceNotFoundException"},
		{"start without a vault", []string{"maintenance", "start"}, "--vault is required"},
		{"start on an unknown vault", []string{"maintenance", "start", "--vault", "nope"}, "ResourceNotFoundException"},
	}
	for _, tt := range tests {
		if _, errOut := e.Fail(tt.args...); !strings.Contains(errOut, tt.want) {
			t.Errorf("%s: stderr %q, want %q", tt.name, errOut, tt.want)
		}
	}
}

func waitMaintenanceCLI(t *testing.T, e *clitest.Env, id string) maintenanceJSON {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var j maintenanceJSON
		e.RunJSON(&j, "maintenance", "describe", id)
		if j.State == "COMPLETED" {
			return j
		}
		if j.State != "CREATED" && j.State != "RUNNING" || time.Now().After(deadline) {
			t.Fatalf("maintenance job %s: %+v", id, j)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
