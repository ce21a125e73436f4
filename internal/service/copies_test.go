package service_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/clock"
	"github.com/cofferbackup/coffer/internal/coffertest"
	"github.com/cofferbackup/coffer/internal/service"
)

// TestPlanCopyActions: after a scheduled backup of a rule completes, a
// copy job per CopyAction runs: one into an existing vault (with its
// lifecycle, attributed to the plan and the backup job) that restores
// byte for byte, one into a vault that does not exist, recorded FAILED.
func TestPlanCopyActions(t *testing.T) { forEachEngine(t, testPlanCopyActions) }

func testPlanCopyActions(t *testing.T, db string) {
	clk := clock.NewFake(time.Date(2026, 3, 28, 9, 59, 0, 0, time.UTC))
	e := coffertest.Start(t, coffertest.Options{Database: db, Clock: clk})
	c, mc := e.Client, e.S3.Client(t)
	bucket := e.S3.NewBucket(t, true)
	want := coffertest.FillBucket(t, mc, bucket, "p/", 10, 700)
	createVault(t, c, "primary")
	createVault(t, c, "offsite")
	offsite, err := c.DescribeBackupVault(ctx, &backup.DescribeBackupVaultInput{BackupVaultName: aws.String("offsite")})
	if err != nil {
		t.Fatal(err)
	}
	missing := strings.Replace(aws.ToString(offsite.BackupVaultArn), ":offsite", ":not-there", 1)
	p, err := c.CreateBackupPlan(ctx, &backup.CreateBackupPlanInput{BackupPlan: &types.BackupPlanInput{
		BackupPlanName: aws.String("with-copies"), Rules: []types.BackupRuleInput{{RuleName: aws.String("r"),
			TargetBackupVaultName: aws.String("primary"), ScheduleExpression: aws.String("cron(0 * ? * * *)"), StartWindowMinutes: aws.Int64(60),
			CopyActions: []types.CopyAction{
				{DestinationBackupVaultArn: offsite.BackupVaultArn, Lifecycle: &types.Lifecycle{DeleteAfterDays: aws.Int64(5)}},
				{DestinationBackupVaultArn: aws.String(missing)},
			}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateBackupSelection(ctx, &backup.CreateBackupSelectionInput{BackupPlanId: p.BackupPlanId, BackupSelection: &types.BackupSelection{
		SelectionName: aws.String("b"), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x"), Resources: []string{"arn:aws:s3:::" + bucket}}}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(90 * time.Second)
	if n, err := e.Service.RunSchedules(ctx); err != nil || n != 1 {
		t.Fatalf("RunSchedules started %d jobs (%v)", n, err)
	}
	bj, err := c.ListBackupJobs(ctx, &backup.ListBackupJobsInput{ByBackupVaultName: aws.String("primary")})
	if err != nil || len(bj.BackupJobs) != 1 {
		t.Fatalf("backup jobs: %v", err)
	}
	backupID := aws.ToString(bj.BackupJobs[0].BackupJobId)
	if j := e.WaitBackup(t, backupID); j.State != types.BackupJobStateCompleted {
		t.Fatalf("scheduled backup: %s", j.State)
	}
	var done, failed *types.CopyJob
	deadline := time.Now().Add(time.Minute)
	for done == nil || failed == nil {
		if time.Now().After(deadline) {
			t.Fatalf("copy jobs of the rule did not end: done %v failed %v", done, failed)
		}
		time.Sleep(100 * time.Millisecond)
		out, err := c.ListCopyJobs(ctx, &backup.ListCopyJobsInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.CopyJobs) > 2 {
			t.Fatalf("%d copy jobs, want 2", len(out.CopyJobs))
		}
		done, failed = nil, nil
		for i := range out.CopyJobs {
			j := &out.CopyJobs[i]
			switch {
			case j.State == types.CopyJobStateCompleted:
				done = j
			case j.State == types.CopyJobStateFailed:
				failed = j
			}
		}
	}
	if aws.ToString(done.CreatedByBackupJobId) != backupID || done.CreatedBy == nil || aws.ToString(done.CreatedBy.BackupPlanId) != aws.ToString(p.BackupPlanId) ||
		aws.ToString(done.DestinationBackupVaultArn) != aws.ToString(offsite.BackupVaultArn) || aws.ToInt64(done.DestinationRecoveryPointLifecycle.DeleteAfterDays) != 5 {
		t.Fatalf("the rule's copy: %+v", done)
	}
	if !strings.Contains(aws.ToString(failed.StatusMessage), "not-there") || aws.ToString(failed.CreatedByBackupJobId) != backupID {
		t.Fatalf("the copy into a missing vault: %q", aws.ToString(failed.StatusMessage))
	}
	coffertest.CheckBucket(t, mc, coffertest.RestoreToNewBucket(t, c, aws.ToString(done.DestinationRecoveryPointArn)), want)
}

// TestCopyTakeover: a copy job left RUNNING by a process that died is
// taken over: it runs again from the start, completes, and its copy
// restores byte for byte.
func TestCopyTakeover(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{})
	c, mc := e.Client, e.S3.Client(t)
	bucket := e.S3.NewBucket(t, true)
	want := coffertest.FillBucket(t, mc, bucket, "t/", 8, 900)
	createVault(t, c, "from")
	createVault(t, c, "to")
	b := startBackup(t, c, "from", bucket, 0)
	if j := e.WaitBackup(t, aws.ToString(b.BackupJobId)); j.State != types.BackupJobStateCompleted {
		t.Fatalf("backup: %s", j.State)
	}
	db := e.Service.Catalog()
	jobStore := e.Service.JobStore()
	src, err := db.Vault(ctx, "from")
	if err != nil {
		t.Fatal(err)
	}
	dst, err := db.Vault(ctx, "to")
	if err != nil {
		t.Fatal(err)
	}
	// A job as a dead process leaves it: RUNNING, its owner gone, no
	// River job queued.
	j := jobstore.CopyJob{ID: "ghost-copy", SourceVaultName: "from", SourceVaultARN: src.ARN, SourceRecoveryPointARN: aws.ToString(b.RecoveryPointArn),
		DestinationVaultName: "to", DestinationVaultARN: dst.ARN, DestinationRecoveryPointARN: strings.Replace(aws.ToString(b.RecoveryPointArn), ":recovery-point:", ":recovery-point:copy-", 1),
		ResourceARN: "arn:aws:s3:::" + bucket, ResourceType: "S3", State: service.StateCreated, CreatedAt: time.Now()}
	if err := jobStore.InsertCopyJob(ctx, j, nil); err != nil {
		t.Fatal(err)
	}
	j.State, j.Owner, j.StartedAt = service.StateRunning, "ghost-process", time.Now()
	if ok, err := jobStore.TransitionCopyJob(ctx, j, service.StateCreated); err != nil || !ok {
		t.Fatalf("mark running: %v %v", ok, err)
	}
	if n, err := e.Service.TakeOver(ctx); err != nil || n != 1 {
		t.Fatalf("takeover moved %d jobs (%v), want 1", n, err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		out, err := c.DescribeCopyJob(ctx, &backup.DescribeCopyJobInput{CopyJobId: aws.String(j.ID)})
		if err != nil {
			t.Fatal(err)
		}
		cj := out.CopyJob
		if cj.State == types.CopyJobStateCompleted {
			if !strings.Contains(aws.ToString(cj.StatusMessage), "run 2") {
				t.Errorf("status message of the taken-over copy: %q", aws.ToString(cj.StatusMessage))
			}
			coffertest.CheckBucket(t, mc, coffertest.RestoreToNewBucket(t, c, j.DestinationRecoveryPointARN), want)
			return
		}
		if cj.State == types.CopyJobStateFailed || time.Now().After(deadline) {
			t.Fatalf("taken-over copy: %s %q", cj.State, aws.ToString(cj.StatusMessage))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
