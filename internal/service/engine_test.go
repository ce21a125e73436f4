package service_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/cofferbackup/coffer/internal/clock"
	"github.com/cofferbackup/coffer/internal/coffertest"
	"github.com/cofferbackup/coffer/internal/service"
)

// waitState polls a backup job until it reaches state.
func waitState(t *testing.T, e *coffertest.Env, id string, state types.BackupJobState) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		d, err := e.Client.DescribeBackupJob(ctx, &backup.DescribeBackupJobInput{BackupJobId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		if d.State == state {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s: %s %q, want %s", id, d.State, aws.ToString(d.StatusMessage), state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestShutdownLosesNoJob: coffer stops while one backup runs and two wait
// for the only worker. After the restart all three complete, each once:
// the interrupted one from the start, the queued ones from River's queue.
func TestShutdownLosesNoJob(t *testing.T) { forEachEngine(t, testShutdownLosesNoJob) }

func testShutdownLosesNoJob(t *testing.T, db string) {
	e := coffertest.Start(t, coffertest.Options{Database: db, Parallelism: 1, MaxJobs: 1})
	mc := e.S3.Client(t)
	big, a, b := e.S3.NewBucket(t, true), e.S3.NewBucket(t, true), e.S3.NewBucket(t, true)
	wantBig := coffertest.FillBucket(t, mc, big, "big/", 200, 1024)
	coffertest.FillBucket(t, mc, a, "a/", 3, 100)
	coffertest.FillBucket(t, mc, b, "b/", 3, 100)
	createVault(t, e.Client, "engine")
	var ids []string
	for _, bucket := range []string{big, a, b} {
		ids = append(ids, aws.ToString(startBackup(t, e.Client, "engine", bucket, 0).BackupJobId))
	}
	waitState(t, e, ids[0], types.BackupJobStateRunning)
	e.Restart(t)
	for _, id := range ids {
		if j := e.WaitBackup(t, id); j.State != types.BackupJobStateCompleted {
			t.Fatalf("job %s after restart: %s %q", id, j.State, aws.ToString(j.StatusMessage))
		}
	}
	rps, err := e.Client.ListRecoveryPointsByBackupVault(ctx, &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: aws.String("engine")})
	if err != nil || len(rps.RecoveryPoints) != 3 {
		t.Fatalf("recovery points: %d (%v), want one per job", len(rps.RecoveryPoints), err)
	}
	jobs, err := e.Client.ListBackupJobs(ctx, &backup.ListBackupJobsInput{ByBackupVaultName: aws.String("engine")})
	if err != nil || len(jobs.BackupJobs) != 3 {
		t.Fatalf("jobs: %d (%v), want 3", len(jobs.BackupJobs), err)
	}
	d, err := e.Client.DescribeBackupJob(ctx, &backup.DescribeBackupJobInput{BackupJobId: aws.String(ids[0])})
	if err != nil {
		t.Fatal(err)
	}
	restoreAndCompare(t, e, aws.ToString(d.RecoveryPointArn), wantBig)
}

// TestDataDirInUse: on SQLite a second process on a data directory is
// refused; on PostgreSQL it joins the first as one service (it sees the
// same vaults).
func TestDataDirInUse(t *testing.T) { forEachEngine(t, testDataDirInUse) }

func testDataDirInUse(t *testing.T, db string) {
	e := coffertest.Start(t, coffertest.Options{Database: db})
	createVault(t, e.Client, "shared")
	key, _, _, err := service.LoadOrCreateMasterKey(e.DataDir, "")
	if err != nil {
		t.Fatal(err)
	}
	s, err := service.Open(ctx, service.Config{DataDir: e.DataDir, MasterKey: key, Database: db, JanitorInterval: -1})
	if db == "" {
		if !errors.Is(err, service.ErrDataDirInUse) {
			if s != nil {
				_ = s.Close(ctx)
			}
			t.Fatalf("second Open on a data directory in use: %v, want ErrDataDirInUse", err)
		}
		e.Restart(t) // the lock is released on Close
		return
	}
	if err != nil {
		t.Fatalf("second process on PostgreSQL: %v", err)
	}
	defer s.Close(ctx)
	if v, err := s.Vault(ctx, "shared"); err != nil || v.Name != "shared" {
		t.Fatalf("second process does not see the first one's vault: %+v %v", v, err)
	}
}

// TestVaultOfALivePlan: a vault a plan targets cannot be deleted; if its
// catalog entry disappears anyway, the scheduled run records a FAILED job
// saying why, and the plan's other rules still run.
func TestVaultOfALivePlan(t *testing.T) { forEachEngine(t, testVaultOfALivePlan) }

func testVaultOfALivePlan(t *testing.T, db string) {
	clk := clock.NewFake(time.Date(2026, 4, 1, 9, 59, 0, 0, time.UTC))
	e := coffertest.Start(t, coffertest.Options{Database: db, Clock: clk})
	bucket := e.S3.NewBucket(t, true)
	coffertest.FillBucket(t, e.S3.Client(t), bucket, "p/", 2, 10)
	createVault(t, e.Client, "kept")
	createVault(t, e.Client, "doomed")
	rule := func(name, vault string) types.BackupRuleInput {
		return types.BackupRuleInput{RuleName: aws.String(name), TargetBackupVaultName: aws.String(vault),
			ScheduleExpression: aws.String("cron(0 * ? * * *)"), StartWindowMinutes: aws.Int64(60)}
	}
	p, err := e.Client.CreateBackupPlan(ctx, &backup.CreateBackupPlanInput{BackupPlan: &types.BackupPlanInput{
		BackupPlanName: aws.String("two"), Rules: []types.BackupRuleInput{rule("a", "doomed"), rule("b", "kept")}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Client.CreateBackupSelection(ctx, &backup.CreateBackupSelectionInput{BackupPlanId: p.BackupPlanId,
		BackupSelection: &types.BackupSelection{SelectionName: aws.String("one"), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x"),
			Resources: []string{"arn:aws:s3:::" + bucket}}}); err != nil {
		t.Fatal(err)
	}
	_, err = e.Client.DeleteBackupVault(ctx, &backup.DeleteBackupVaultInput{BackupVaultName: aws.String("doomed")})
	var invalid *types.InvalidRequestException
	if !errors.As(err, &invalid) || !strings.Contains(err.Error(), aws.ToString(p.BackupPlanId)) {
		t.Fatalf("delete of a plan's vault: %v, want InvalidRequestException naming the plan", err)
	}
	if err := e.Service.Catalog().DeleteVault(ctx, "doomed"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Minute)
	n, err := e.Service.RunSchedules(ctx)
	if err != nil || n != 2 {
		t.Fatalf("RunSchedules: %d jobs (%v), want 2 (one refused, one run)", n, err)
	}
	jobs, err := e.Client.ListBackupJobs(ctx, &backup.ListBackupJobsInput{ByResourceArn: aws.String("arn:aws:s3:::" + bucket)})
	if err != nil || len(jobs.BackupJobs) != 2 {
		t.Fatalf("jobs: %+v (%v)", jobs, err)
	}
	for _, j := range jobs.BackupJobs {
		done := e.WaitBackup(t, aws.ToString(j.BackupJobId))
		switch aws.ToString(j.BackupVaultName) {
		case "doomed":
			if done.State != types.BackupJobStateFailed || !strings.Contains(aws.ToString(done.StatusMessage), `"doomed"`) {
				t.Errorf("job of the lost vault: %s %q", done.State, aws.ToString(done.StatusMessage))
			}
		case "kept":
			if done.State != types.BackupJobStateCompleted {
				t.Errorf("job of the other rule: %s %q", done.State, aws.ToString(done.StatusMessage))
			}
		}
	}
	if n, err := e.Service.RunSchedules(ctx); err != nil || n != 0 {
		t.Fatalf("second pass: %d (%v), want nothing new", n, err)
	}
}

// TestOtherMasterKeyRefused: a server whose master key differs from the one
// the catalog was created under refuses to start (on PostgreSQL while the
// first server runs, from another data directory); the right key still
// starts.
func TestOtherMasterKeyRefused(t *testing.T) { forEachEngine(t, testOtherMasterKeyRefused) }

func testOtherMasterKeyRefused(t *testing.T, db string) {
	e := coffertest.Start(t, coffertest.Options{Database: db})
	createVault(t, e.Client, "mine")
	dataDir := t.TempDir()
	if db == "" {
		e.Stop(t) // one SQLite catalog, one data directory
		dataDir = e.DataDir
	}
	other := bytes.Repeat([]byte{7}, 32)
	s, err := service.Open(ctx, service.Config{DataDir: dataDir, MasterKey: other, Database: db, JanitorInterval: -1})
	if !errors.Is(err, service.ErrMasterKeyMismatch) || !strings.Contains(err.Error(), "another master key") {
		if s != nil {
			_ = s.Close(ctx)
		}
		t.Fatalf("Open with another master key: %v, want ErrMasterKeyMismatch", err)
	}
	e.Restart(t)
	if _, err := e.Client.DescribeBackupVault(ctx, &backup.DescribeBackupVaultInput{BackupVaultName: aws.String("mine")}); err != nil {
		t.Fatalf("vault after the refused start: %v", err)
	}
}
