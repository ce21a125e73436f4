package service_test

import (
	"sort"
	"strings"
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
	forEachEngine(t, testScheduledPlanBacksUpTaggedBuckets)
}

func testScheduledPlanBacksUpTaggedBuckets(t *testing.T, db string) {
	clk := clock.NewFake(time.Date(2026, 3, 28, 9, 59, 0, 0, time.UTC))
	e := coffertest.Start(t, coffertest.Options{Database: db, Clock: clk})
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
	// The MinIO is shared by every test (and engine): a tag value of this
	// run's own keeps other runs' buckets out of the selection.
	prod := "prod-" + prodA
	tagBucket(prodA, map[string]string{"backup": "hourly", "env": prod})
	tagBucket(prodB, map[string]string{"backup": "hourly", "env": prod})
	tagBucket(other, map[string]string{"backup": "hourly", "env": "dev"})
	createVault(t, e.Client, "sched")
	p, err := e.Client.CreateBackupPlan(ctx, &backup.CreateBackupPlanInput{BackupPlan: &types.BackupPlanInput{
		BackupPlanName: aws.String("hourly"), Rules: []types.BackupRuleInput{{RuleName: aws.String("h"),
			TargetBackupVaultName: aws.String("sched"), ScheduleExpression: aws.String("cron(0 * ? * * *)"),
			ScheduleExpressionTimezone: aws.String("Europe/Paris"), StartWindowMinutes: aws.Int64(60),
			Lifecycle: &types.Lifecycle{DeleteAfterDays: aws.Int64(1)}}},
		// Tags of unchanged versions read every second run: the runs
		// alternate between a full read and carrying them. Fixed chunks:
		// each job says so.
		AdvancedBackupSettings: []types.AdvancedBackupSetting{{ResourceType: aws.String("S3"),
			BackupOptions: map[string]string{"ReadTagsEvery": "2", "Chunking": "fixed"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	planID := aws.ToString(p.BackupPlanId)
	// carried counts prodA's completed jobs that took tags from the
	// previous recovery point (their StatusMessage says as of when).
	carried := func() int {
		t.Helper()
		out, err := e.Client.ListBackupJobs(ctx, &backup.ListBackupJobsInput{ByResourceArn: aws.String("arn:aws:s3:::" + prodA)})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, j := range out.BackupJobs {
			msg := aws.ToString(e.WaitBackup(t, aws.ToString(j.BackupJobId)).StatusMessage)
			if strings.Contains(msg, "(ReadTagsEvery 2)") {
				n++
			}
			if !strings.Contains(msg, "(Chunking fixed)") {
				t.Errorf("job %s of a plan with Chunking fixed: %q", aws.ToString(j.BackupJobId), msg)
			}
		}
		return n
	}
	if _, err := e.Client.CreateBackupSelection(ctx, &backup.CreateBackupSelectionInput{BackupPlanId: p.BackupPlanId, BackupSelection: &types.BackupSelection{
		SelectionName: aws.String("prod"), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x"), Resources: []string{"*"},
		Conditions: &types.Conditions{StringEquals: []types.ConditionParameter{
			{ConditionKey: aws.String("aws:ResourceTag/backup"), ConditionValue: aws.String("hourly")},
			{ConditionKey: aws.String("aws:ResourceTag/env"), ConditionValue: aws.String(prod)}}},
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
	// Restart again at once, while the run's jobs are queued or running:
	// they are neither lost nor run twice, and the run is not repeated.
	e.Restart(t)
	run(0)
	if got := jobsOfPlan(t, e, planID); len(got["COMPLETED"]) != 4 {
		t.Fatalf("after the 11:00 run and two restarts: %v", got)
	}
	if n := carried(); n != 1 {
		t.Fatalf("%d of prodA's two backups carried tags, want the second", n)
	}
	// A bucket tagged later is picked up at the next run.
	tagBucket(other, map[string]string{"backup": "hourly", "env": prod})
	clk.Set(time.Date(2026, 3, 28, 12, 0, 5, 0, time.UTC))
	run(3)
	got = jobsOfPlan(t, e, planID)
	if len(got["COMPLETED"]) != 7 || len(got) != 1 {
		t.Fatalf("after three runs: %v", got)
	}
	if n := carried(); n != 1 {
		t.Fatalf("%d of prodA's three backups carried tags, want the second only", n)
	}
	g, err := e.Client.GetBackupPlan(ctx, &backup.GetBackupPlanInput{BackupPlanId: p.BackupPlanId})
	if err != nil || g.LastExecutionDate == nil {
		t.Fatalf("LastExecutionDate not set: %v", err)
	}
	// A day later: runs missed while nothing called the scheduler are not
	// caught up one by one; the current one runs.
	clk.Set(time.Date(2026, 3, 29, 10, 0, 40, 0, time.UTC))
	run(3)
	jobsOfPlan(t, e, planID) // before the clock jumps past their start window
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

// TestPlanUpdateKeepsDueRunAndRate: an update arriving after a run came due
// but before the scheduler's tick starts that run under the old version,
// and a rate() schedule stays anchored on its runs, not on the update.
func TestPlanUpdateKeepsDueRunAndRate(t *testing.T) {
	forEachEngine(t, testPlanUpdateKeepsDueRunAndRate)
}

func testPlanUpdateKeepsDueRunAndRate(t *testing.T, db string) {
	clk := clock.NewFake(time.Date(2026, 5, 4, 9, 30, 0, 0, time.UTC))
	e := coffertest.Start(t, coffertest.Options{Database: db, Clock: clk})
	bucket := e.S3.NewBucket(t, true)
	coffertest.FillBucket(t, e.S3.Client(t), bucket, "u/", 2, 10)
	createVault(t, e.Client, "sched")
	doc := func(window int64) *types.BackupPlanInput {
		return &types.BackupPlanInput{BackupPlanName: aws.String("rate"), Rules: []types.BackupRuleInput{{RuleName: aws.String("r"),
			TargetBackupVaultName: aws.String("sched"), ScheduleExpression: aws.String("rate(2 hours)"), StartWindowMinutes: aws.Int64(window)}}}
	}
	p, err := e.Client.CreateBackupPlan(ctx, &backup.CreateBackupPlanInput{BackupPlan: doc(60)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Client.CreateBackupSelection(ctx, &backup.CreateBackupSelectionInput{BackupPlanId: p.BackupPlanId,
		BackupSelection: &types.BackupSelection{SelectionName: aws.String("b"), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x"),
			Resources: []string{"arn:aws:s3:::" + bucket}}}); err != nil {
		t.Fatal(err)
	}
	clk.Set(time.Date(2026, 5, 4, 11, 30, 30, 0, time.UTC))
	if n, err := e.Service.RunSchedules(ctx); err != nil || n != 1 {
		t.Fatalf("11:30 run: %d jobs (%v)", n, err)
	}
	jobsOfPlan(t, e, aws.ToString(p.BackupPlanId))
	// 13:30 is due; the update comes before the scheduler's next tick.
	clk.Set(time.Date(2026, 5, 4, 13, 30, 20, 0, time.UTC))
	if _, err := e.Client.UpdateBackupPlan(ctx, &backup.UpdateBackupPlanInput{BackupPlanId: p.BackupPlanId, BackupPlan: doc(120)}); err != nil {
		t.Fatal(err)
	}
	if n, err := e.Service.RunSchedules(ctx); err != nil || n != 0 {
		t.Fatalf("after the update: %d more jobs (%v), want 0", n, err)
	}
	got := jobsOfPlan(t, e, aws.ToString(p.BackupPlanId))
	if len(got["COMPLETED"]) != 2 {
		t.Fatalf("jobs: %v, want the 11:30 and the 13:30 runs", got)
	}
	for planID, want := range map[string]int{aws.ToString(p.BackupPlanId): 2, "no-such-plan": 0} {
		rps, err := e.Client.ListRecoveryPointsByBackupVault(ctx, &backup.ListRecoveryPointsByBackupVaultInput{
			BackupVaultName: aws.String("sched"), ByBackupPlanId: aws.String(planID)})
		if err != nil || len(rps.RecoveryPoints) != want {
			t.Fatalf("recovery points of plan %s: %d (%v), want %d", planID, len(rps.RecoveryPoints), err, want)
		}
		for _, rp := range rps.RecoveryPoints {
			if c := rp.CreatedBy; c == nil || aws.ToString(c.BackupPlanId) != planID || aws.ToString(c.BackupRuleId) == "" ||
				!strings.HasSuffix(aws.ToString(c.BackupPlanArn), ":backup-plan:"+planID) {
				t.Fatalf("recovery point %s CreatedBy: %+v", aws.ToString(rp.RecoveryPointArn), c)
			}
		}
	}
	g, err := e.Client.GetBackupPlan(ctx, &backup.GetBackupPlanInput{BackupPlanId: p.BackupPlanId, MaxScheduledRunsPreview: 1})
	if err != nil || len(g.ScheduledRunsPreview) != 1 {
		t.Fatalf("preview: %+v (%v)", g.ScheduledRunsPreview, err)
	}
	if next := aws.ToTime(g.ScheduledRunsPreview[0].ExecutionTime); !next.Equal(time.Date(2026, 5, 4, 15, 30, 0, 0, time.UTC)) {
		t.Fatalf("next run after the update: %s, want 15:30 (every 2 hours from the last run)", next)
	}
}
