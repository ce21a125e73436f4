package service_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/clock"
	"github.com/cofferbackup/coffer/internal/coffertest"
	"github.com/cofferbackup/coffer/internal/service"
	"github.com/cofferbackup/coffer/internal/testserver"
)

func TestMain(m *testing.M) { testserver.Main(m) }

var ctx = context.Background()

func createVault(t *testing.T, c *backup.Client, name string) {
	t.Helper()
	if _, err := c.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String(name)}); err != nil {
		t.Fatalf("create vault %s: %v", name, err)
	}
}

func startBackup(t *testing.T, c *backup.Client, vault, bucket string, deleteAfter int64) *backup.StartBackupJobOutput {
	t.Helper()
	in := &backup.StartBackupJobInput{BackupVaultName: aws.String(vault), ResourceArn: aws.String("arn:aws:s3:::" + bucket),
		IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x")}
	if deleteAfter > 0 {
		in.Lifecycle = &types.Lifecycle{DeleteAfterDays: aws.Int64(deleteAfter)}
	}
	out, err := c.StartBackupJob(ctx, in)
	if err != nil {
		t.Fatalf("StartBackupJob %s: %v", bucket, err)
	}
	return out
}

// restoreAndCompare restores rp into a new bucket and compares the current
// objects with want, byte for byte.
func restoreAndCompare(t *testing.T, e *coffertest.Env, rpARN string, want map[string][]byte) {
	t.Helper()
	coffertest.CheckBucket(t, e.S3.Client(t), coffertest.RestoreToNewBucket(t, e.Client, rpARN), want)
}

func TestRetentionExpiresAndKeepsSharedData(t *testing.T) {
	forEachEngine(t, testRetentionExpiresAndKeepsSharedData)
}

func testRetentionExpiresAndKeepsSharedData(t *testing.T, db string) {
	clk := clock.NewFake(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	e := coffertest.Start(t, coffertest.Options{Database: db, Clock: clk})
	mc := e.S3.Client(t)
	bucket := e.S3.NewBucket(t, true)
	want := coffertest.FillBucket(t, mc, bucket, "shared/", 20, 200<<10)
	createVault(t, e.Client, "keep")
	short := startBackup(t, e.Client, "keep", bucket, 1)
	if j := e.WaitBackup(t, aws.ToString(short.BackupJobId)); j.State != types.BackupJobStateCompleted {
		t.Fatalf("first backup: %s %s", j.State, aws.ToString(j.StatusMessage))
	}
	rp, err := e.Client.DescribeRecoveryPoint(ctx, &backup.DescribeRecoveryPointInput{BackupVaultName: aws.String("keep"), RecoveryPointArn: short.RecoveryPointArn})
	if err != nil {
		t.Fatal(err)
	}
	if rp.CalculatedLifecycle == nil || !aws.ToTime(rp.CalculatedLifecycle.DeleteAt).Equal(clk.Now().Add(24*time.Hour)) ||
		rp.Lifecycle == nil || aws.ToInt64(rp.Lifecycle.DeleteAfterDays) != 1 {
		t.Fatalf("lifecycle %+v / %+v", rp.CalculatedLifecycle, rp.Lifecycle)
	}
	clk.Advance(time.Hour)
	long := startBackup(t, e.Client, "keep", bucket, 0) // same data, kept forever
	if j := e.WaitBackup(t, aws.ToString(long.BackupJobId)); j.State != types.BackupJobStateCompleted || aws.ToInt64(j.BytesTransferred) != 0 {
		t.Fatalf("second backup: %s transferred %d (want 0: nothing changed)", j.State, aws.ToInt64(j.BytesTransferred))
	}
	clk.Advance(22 * time.Hour) // 23 h after the first backup
	if n, err := e.Service.ExpireRecoveryPoints(ctx); err != nil || n != 0 {
		t.Fatalf("expired %d early (%v)", n, err)
	}
	clk.Advance(2 * time.Hour)
	if n, err := e.Service.ExpireRecoveryPoints(ctx); err != nil || n != 1 {
		t.Fatalf("expired %d, want 1 (%v)", n, err)
	}
	if _, err := e.Client.DescribeRecoveryPoint(ctx, &backup.DescribeRecoveryPointInput{BackupVaultName: aws.String("keep"), RecoveryPointArn: short.RecoveryPointArn}); err == nil {
		t.Fatal("expired recovery point still described")
	}
	// The data the expired point shared with the kept one survived maintenance.
	restoreAndCompare(t, e, aws.ToString(long.RecoveryPointArn), want)
}

func TestStopBackupJob(t *testing.T) { forEachEngine(t, testStopBackupJob) }

func testStopBackupJob(t *testing.T, db string) {
	// The first backup holds in its RUNNING state until it is stopped, so
	// that the stop always finds it running, however fast or loaded the
	// machine (it once completed first under load).
	var held atomic.Bool
	hooks := &service.TestHooks{BackupRunning: func(ctx context.Context, _ string) {
		if held.CompareAndSwap(false, true) {
			<-ctx.Done()
		}
	}}
	e := coffertest.Start(t, coffertest.Options{Database: db, Parallelism: 1, MaxJobs: 1, TestHooks: hooks})
	mc := e.S3.Client(t)
	big := e.S3.NewBucket(t, true)
	coffertest.FillBucket(t, mc, big, "o/", 40, 1024)
	small := e.S3.NewBucket(t, true)
	coffertest.FillBucket(t, mc, small, "o/", 3, 10)
	createVault(t, e.Client, "stop")
	running := startBackup(t, e.Client, "stop", big, 0)
	queued := startBackup(t, e.Client, "stop", small, 0) // waits: one job at a time
	waitState(t, e, aws.ToString(running.BackupJobId), types.BackupJobStateRunning)
	for _, id := range []string{aws.ToString(queued.BackupJobId), aws.ToString(running.BackupJobId)} {
		if _, err := e.Client.StopBackupJob(ctx, &backup.StopBackupJobInput{BackupJobId: aws.String(id)}); err != nil {
			t.Fatalf("StopBackupJob %s: %v", id, err)
		}
	}
	for _, id := range []string{aws.ToString(queued.BackupJobId), aws.ToString(running.BackupJobId)} {
		if j := e.WaitBackup(t, id); j.State != types.BackupJobStateAborted {
			t.Fatalf("job %s: %s %q, want ABORTED", id, j.State, aws.ToString(j.StatusMessage))
		}
	}
	rps, err := e.Client.ListRecoveryPointsByBackupVault(ctx, &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: aws.String("stop")})
	if err != nil || len(rps.RecoveryPoints) != 0 {
		t.Fatalf("aborted jobs left recovery points: %d %v", len(rps.RecoveryPoints), err)
	}
	_, err = e.Client.StopBackupJob(ctx, &backup.StopBackupJobInput{BackupJobId: running.BackupJobId})
	if err == nil || !strings.Contains(err.Error(), "InvalidRequestException") {
		t.Fatalf("stopping a finished job: %v", err)
	}
	// The vault still works: a new backup of the same bucket completes.
	again := startBackup(t, e.Client, "stop", small, 0)
	if j := e.WaitBackup(t, aws.ToString(again.BackupJobId)); j.State != types.BackupJobStateCompleted {
		t.Fatalf("backup after abort: %s", j.State)
	}
}

func TestRestartSettlesInterruptedJobs(t *testing.T) {
	forEachEngine(t, testRestartSettlesInterruptedJobs)
}

func testRestartSettlesInterruptedJobs(t *testing.T, db string) {
	e := coffertest.Start(t, coffertest.Options{Database: db})
	mc := e.S3.Client(t)
	bucket := e.S3.NewBucket(t, true)
	want := coffertest.FillBucket(t, mc, bucket, "r/", 10, 5000)
	createVault(t, e.Client, "restart")
	done := startBackup(t, e.Client, "restart", bucket, 0)
	if j := e.WaitBackup(t, aws.ToString(done.BackupJobId)); j.State != types.BackupJobStateCompleted {
		t.Fatalf("backup: %s", j.State)
	}
	cat := e.Service.Catalog()
	jobStore := e.Service.JobStore()
	v, err := cat.Vault(ctx, "restart")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	// A job that was running when the process died, and one still queued.
	crashed := jobstore.BackupJob{ID: "CRASHED-1", VaultName: "restart", VaultARN: v.ARN, ResourceARN: "arn:aws:s3:::" + bucket,
		ResourceType: "S3", State: "CREATED", RecoveryPointARN: v.ARN + "-never", CreatedAt: now, StartedAt: now, PercentDone: "40.0"}
	queued := jobstore.BackupJob{ID: "QUEUED-1", VaultName: "restart", VaultARN: v.ARN, ResourceARN: "arn:aws:s3:::" + bucket,
		ResourceType: "S3", State: "CREATED", RecoveryPointARN: "arn:aws:backup:us-east-1:000000000000:recovery-point:queued-1",
		CreatedAt: now, StartBy: now.Add(time.Hour), PercentDone: "0.0"}
	for _, j := range []jobstore.BackupJob{crashed, queued} {
		if err := jobStore.InsertBackupJob(ctx, j, nil); err != nil {
			t.Fatal(err)
		}
	}
	crashed.State = "RUNNING" // claimed; no River job runs it in this process
	if ok, err := jobStore.TransitionBackupJob(ctx, crashed, "CREATED"); err != nil || !ok {
		t.Fatalf("mark CRASHED-1 running: %v %v", ok, err)
	}
	// A queued job whose River job a dead process was running (it died
	// while its handler looked at the job): River would hold it for days.
	picked := queued
	picked.ID, picked.RecoveryPointARN = "PICKED-1", queued.RecoveryPointARN+"-picked"
	riverJob := `INSERT INTO river_job (args, kind, max_attempts, state, attempt, attempted_at)
		VALUES (json('{"job_id":"PICKED-1"}'), 'backup', 1, 'running', 1, CURRENT_TIMESTAMP)`
	if cat.Engine() == catalog.Postgres {
		riverJob = `INSERT INTO river_job (args, kind, max_attempts, state, attempt, attempted_at)
			VALUES ('{"job_id":"PICKED-1"}'::jsonb, 'backup', 1, 'running', 1, now())`
	}
	if err := jobStore.InsertBackupJob(ctx, picked, func(tx *catalog.Tx) error {
		_, err := tx.SQL().ExecContext(ctx, riverJob)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// The catalog lost the completed recovery point (crash between the
	// vault's commit and the catalog write): the vault still has it.
	if err := cat.DeleteRecoveryPoint(ctx, aws.ToString(done.RecoveryPointArn)); err != nil {
		t.Fatal(err)
	}
	e.Restart(t)
	// Both run again, in this process, from the start.
	if j := e.WaitBackup(t, "CRASHED-1"); j.State != types.BackupJobStateCompleted || !strings.Contains(aws.ToString(j.StatusMessage), "taken over") {
		t.Fatalf("crashed job after restart: %s %q", j.State, aws.ToString(j.StatusMessage))
	}
	if j := e.WaitBackup(t, "PICKED-1"); j.State != types.BackupJobStateCompleted || !strings.Contains(aws.ToString(j.StatusMessage), "taken over") {
		t.Fatalf("job held by a dead process after restart: %s %q", j.State, aws.ToString(j.StatusMessage))
	}
	if j := e.WaitBackup(t, "QUEUED-1"); j.State != types.BackupJobStateCompleted {
		t.Fatalf("queued job after restart: %s %q", j.State, aws.ToString(j.StatusMessage))
	}
	rps, err := e.Client.ListRecoveryPointsByBackupVault(ctx, &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: aws.String("restart")})
	if err != nil || len(rps.RecoveryPoints) != 4 { // done, QUEUED-1 and the two re-run jobs
		t.Fatalf("recovery points after restart: %d %v", len(rps.RecoveryPoints), err)
	}
	restoreAndCompare(t, e, aws.ToString(done.RecoveryPointArn), want)
}
