package service_test

import (
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/minio/minio-go/v7/pkg/tags"

	"github.com/cofferbackup/coffer/internal/clock"
	"github.com/cofferbackup/coffer/internal/coffertest"
)

// jobsOfPlan waits for and returns the plan's jobs by resource, per state.
func jobsOfPlan(t *testing.T, e *coffertest.Env, planID string) map[string][]string {
	t.Helper()
	out, err := e.Client.ListBackupJobs(ctx, &backup.ListBackupJobsInput{ByBackupVaultName: aws.String("sched")})
	if err != nil {
		t.Fatal(err)
	}
	byState := map[string][]string{}
	for _, j := range out.BackupJobs {
		if j.CreatedBy == nil || aws.ToString(j.CreatedBy.BackupPlanId) != planID {
			t.Fatalf("job %s not attributed to plan %s: %+v", aws.ToString(j.BackupJobId), planID, j.CreatedBy)
		}
		done := e.WaitBackup(t, aws.ToString(j.BackupJobId))
		byState[string(done.State)] = append(byState[string(done.State)], aws.ToString(j.ResourceArn))
	}
	for _, v := range byState {
		sort.Strings(v)
	}
	return byState
}

func TestScheduledPlanBacksUpTaggedBuckets(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 28, 9, 59, 0, 0, time.UTC))
	e := coffertest.Start(t, coffertest.Options{Clock: clk})
	mc := e.S3.Client(t)
	tagBucket := func(b string, kv map[string]string) {
		tg, _ := tags.NewTags(kv, false)
		if err := mc.SetBucketTagging(ctx, b, tg); err != nil {
			t.Fatal(err)
		}
	}
	prodA, prodB, other := e.S3.NewBucket(t, true), e.S3.NewBucket(t, true), e.S3.NewBucket(t, true)
	for _, b := range []string{prodA, prodB, other} {
		coffertest.FillBucket(t, mc, b, "s/", 3, 500)
	}
	tagBucket(prodA, map[string]string{"backup": "hourly", "env": "prod"})
	tagBucket(prodB, map[string]string{"backup": "hourly", "env": "prod"})
	tagBucket(other, map[string]string{"backup": "hourly", "env": "dev"})
	createVault(t, e.Client, "sched")
	p, err := e.Client.CreateBackupPlan(ctx, &backup.CreateBackupPlanInput{BackupPlan: &types.BackupPlanInput{
		BackupPlanName: aws.String("hourly"), Rules: []types.BackupRuleInput{{RuleName: aws.String("h"),
			TargetBackupVaultName: aws.String("sched"), ScheduleExpression: aws.String("cron(0 * ? * * *)"),
			ScheduleExpressionTimezone: aws.String("Europe/Paris"), StartWindowMinutes: aws.Int64(60),
			Lifecycle: &types.Lifecycle{DeleteAfterDays: aws.Int64(1)}}}}})
	if err != nil {
		t.Fatal(err)
	}
	planID := aws.ToString(p.BackupPlanId)
	if _, err := e.Client.CreateBackupSelection(ctx, &backup.CreateBackupSelectionInput{BackupPlanId: p.BackupPlanId, BackupSelection: &types.BackupSelection{
		SelectionName: aws.String("prod"), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x"), Resources: []string{"*"},
		Conditions: &types.Conditions{StringEquals: []types.ConditionParameter{
			{ConditionKey: aws.String("aws:ResourceTag/backup"), ConditionValue: aws.String("hourly")},
			{ConditionKey: aws.String("aws:ResourceTag/env"), ConditionValue: aws.String("prod")}}},
	}}); err != nil {
		t.Fatal(err)
	}
	run := func(want int) {
		t.Helper()
		n, err := e.Service.RunSchedules(ctx)
		if err != nil || n != want {
			t.Fatalf("at %s RunSchedules started %d jobs (%v), want %d", clk.Now(), n, err, want)
		}
	}
	run(0) // 09:59: nothing due
	clk.Advance(90 * time.Second)
	run(2) // 10:00:30: the 10:00 run, for the two prod buckets only
	run(0) // no duplicate
	got := jobsOfPlan(t, e, planID)
	if len(got["COMPLETED"]) != 2 || got["COMPLETED"][0] > got["COMPLETED"][1] {
		t.Fatalf("after the 10:00 run: %v", got)
	}
	// Restart between two runs, then at 11:00:10: the run is neither lost nor repeated.
	clk.Set(time.Date(2026, 3, 28, 11, 0, 10, 0, time.UTC))
	e.Restart(t)
	run(2)
	jobsOfPlan(t, e, planID) // let them finish: a restart fails running jobs
	e.Restart(t)
	run(0)
	// A bucket tagged later is picked up at the next run.
	tagBucket(other, map[string]string{"backup": "hourly", "env": "prod"})
	clk.Set(time.Date(2026, 3, 28, 12, 0, 5, 0, time.UTC))
	run(3)
	got = jobsOfPlan(t, e, planID)
	if len(got["COMPLETED"]) != 7 || len(got) != 1 {
		t.Fatalf("after three runs: %v", got)
	}
	g, err := e.Client.GetBackupPlan(ctx, &backup.GetBackupPlanInput{BackupPlanId: p.BackupPlanId})
	if err != nil || g.LastExecutionDate == nil {
		t.Fatalf("LastExecutionDate not set: %v", err)
	}
	// A day later: runs missed while nothing called the scheduler are not
	// caught up one by one; the current one runs.
	clk.Set(time.Date(2026, 3, 29, 10, 0, 40, 0, time.UTC))
	run(3)
	// DeleteAfterDays 1: the 10:00 recovery points of the 28th expire.
	n, err := e.Service.ExpireRecoveryPoints(ctx)
	if err != nil || n != 2 {
		t.Fatalf("expired %d recovery points (%v), want the 2 of the first run", n, err)
	}
	clk.Set(time.Date(2026, 3, 29, 12, 1, 0, 0, time.UTC))
	if n, err := e.Service.ExpireRecoveryPoints(ctx); err != nil || n != 5 {
		t.Fatalf("expired %d more (%v), want 5", n, err)
	}
	rps, err := e.Client.ListRecoveryPointsByBackupVault(ctx, &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: aws.String("sched")})
	if err != nil || len(rps.RecoveryPoints) != 3 {
		t.Fatalf("recovery points left: %d (%v), want the 3 of the 29th", len(rps.RecoveryPoints), err)
	}
}
