package api_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/cofferbackup/coffer/internal/coffertest"
	"github.com/cofferbackup/coffer/internal/vocab"
)

const day = 24 * time.Hour

// TestStartBackupJobDurationBounds: every duration of StartBackupJob is
// refused past AWS's bound (it used to wrap: 200000 days gave a DeleteAt
// in 1989, which the janitor deleted within a minute) or accepted with
// times in the future.
func TestStartBackupJobDurationBounds(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{})
	c := e.Client
	bucket := e.S3.NewBucket(t, true)
	coffertest.FillBucket(t, e.S3.Client(t), bucket, "b/", 2, 100)
	if _, err := c.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("bounds")}); err != nil {
		t.Fatal(err)
	}
	const maxMin, maxDays = vocab.MaxWindowMinutes, vocab.MaxDeleteAfterDays
	tests := []struct {
		name                   string
		deleteAfter, start, cw int64 // 0: not sent
		cold                   int64
		code                   string // "" accepted
	}{
		{"retention 200000 days", 200_000, 0, 0, 0, "InvalidParameterValueException"},
		{"retention 99999 days", 99_999, 0, 0, 0, "InvalidParameterValueException"},
		{"retention max+1", maxDays + 1, 0, 0, 0, "InvalidParameterValueException"},
		{"cold max+1", 0, 0, 0, maxDays + 1, "InvalidParameterValueException"},
		{"start window 200000 days", 0, 200_000 * 1440, 0, 0, "InvalidParameterValueException"},
		{"start window 99999 days", 0, 99_999 * 1440, 0, 0, "InvalidParameterValueException"},
		{"start window max+1", 0, maxMin + 1, 0, 0, "InvalidParameterValueException"},
		{"completion window 200000 days", 0, 0, 200_000 * 1440, 0, "InvalidParameterValueException"},
		{"completion window 99999 days", 0, 0, 99_999 * 1440, 0, "InvalidParameterValueException"},
		{"completion window max+1", 0, 0, maxMin + 1, 0, "InvalidParameterValueException"},
		{"completion window negative", 0, 0, -60, 0, "InvalidParameterValueException"},
		{"all at their max", maxDays, maxMin, maxMin, 0, ""},
		{"windows of 99999 minutes", 35, 99_999, 99_999, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &backup.StartBackupJobInput{BackupVaultName: aws.String("bounds"), ResourceArn: aws.String("arn:aws:s3:::" + bucket),
				IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x")}
			if tt.deleteAfter != 0 || tt.cold != 0 {
				in.Lifecycle = &types.Lifecycle{}
				if tt.deleteAfter != 0 {
					in.Lifecycle.DeleteAfterDays = aws.Int64(tt.deleteAfter)
				}
				if tt.cold != 0 {
					in.Lifecycle.MoveToColdStorageAfterDays = aws.Int64(tt.cold)
				}
			}
			if tt.start != 0 {
				in.StartWindowMinutes = aws.Int64(tt.start)
			}
			if tt.cw != 0 {
				in.CompleteWindowMinutes = aws.Int64(tt.cw)
			}
			before := time.Now()
			out, err := c.StartBackupJob(ctx, in)
			if tt.code != "" {
				if apiCode(err) != tt.code {
					t.Fatalf("got %v, want %s", err, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatalf("StartBackupJob: %v", err)
			}
			checkAcceptedBounds(t, e, aws.ToString(out.BackupJobId), before, tt.deleteAfter, tt.start)
		})
	}
}

// checkAcceptedBounds waits for the job and checks its StartBy and its
// recovery point's DeleteAt: in the future, where the durations put them.
func checkAcceptedBounds(t *testing.T, e *coffertest.Env, id string, before time.Time, days, startMin int64) {
	t.Helper()
	done := e.WaitBackup(t, id)
	if done.State != types.BackupJobStateCompleted {
		t.Fatalf("job %s %q", done.State, aws.ToString(done.StatusMessage))
	}
	wantStartBy := before.Add(time.Duration(startMin) * time.Minute)
	if sb := aws.ToTime(done.StartBy); sb.Before(wantStartBy.Add(-time.Second)) || sb.After(wantStartBy.Add(time.Minute)) {
		t.Errorf("StartBy %v, want about %v", sb, wantStartBy)
	}
	rp, err := e.Client.DescribeRecoveryPoint(ctx, &backup.DescribeRecoveryPointInput{BackupVaultName: aws.String("bounds"), RecoveryPointArn: done.RecoveryPointArn})
	if err != nil {
		t.Fatal(err)
	}
	if rp.CalculatedLifecycle == nil || rp.CalculatedLifecycle.DeleteAt == nil {
		t.Fatalf("no DeleteAt: %+v", rp.CalculatedLifecycle)
	}
	want := aws.ToTime(rp.CreationDate).Add(time.Duration(days) * day)
	if at := aws.ToTime(rp.CalculatedLifecycle.DeleteAt); !at.After(time.Now()) || at.Sub(want).Abs() > time.Second {
		t.Errorf("DeleteAt %v, want %v (%d days after creation)", at, want, days)
	}
}

// TestBackupPlanDurationBounds: plan rules are bounded like
// StartBackupJob, in rules and in copy actions.
func TestBackupPlanDurationBounds(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{})
	c := e.Client
	if _, err := c.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("pb")}); err != nil {
		t.Fatal(err)
	}
	const maxMin, maxDays = vocab.MaxWindowMinutes, vocab.MaxDeleteAfterDays
	life := func(del, cold int64) *types.Lifecycle {
		l := &types.Lifecycle{DeleteAfterDays: aws.Int64(del)}
		if cold != 0 {
			l.MoveToColdStorageAfterDays = aws.Int64(cold)
		}
		return l
	}
	tests := []struct {
		name   string
		mutate func(*types.BackupRuleInput)
		msg    string // "" accepted
	}{
		{"retention 200000", func(r *types.BackupRuleInput) { r.Lifecycle = life(200_000, 0) }, "DeleteAfterDays"},
		{"retention 99999", func(r *types.BackupRuleInput) { r.Lifecycle = life(99_999, 0) }, "DeleteAfterDays"},
		{"retention max+1", func(r *types.BackupRuleInput) { r.Lifecycle = life(maxDays+1, 0) }, "DeleteAfterDays"},
		{"cold max+1", func(r *types.BackupRuleInput) { r.Lifecycle = life(maxDays, maxDays+1) }, "MoveToColdStorageAfterDays"},
		{"copy retention 200000", func(r *types.BackupRuleInput) {
			r.CopyActions = []types.CopyAction{{DestinationBackupVaultArn: aws.String("arn:aws:backup:us-east-1:000000000000:backup-vault:pb"), Lifecycle: life(200_000, 0)}}
		}, "DeleteAfterDays"},
		{"start window 200000 days", func(r *types.BackupRuleInput) { r.StartWindowMinutes = aws.Int64(200_000 * 1440) }, "StartWindowMinutes"},
		{"start window max+1", func(r *types.BackupRuleInput) {
			r.StartWindowMinutes, r.CompletionWindowMinutes = aws.Int64(maxMin+1), nil
		}, "StartWindowMinutes"},
		{"completion window 99999 days", func(r *types.BackupRuleInput) { r.CompletionWindowMinutes = aws.Int64(99_999 * 1440) }, "CompletionWindowMinutes"},
		{"completion window max+1", func(r *types.BackupRuleInput) { r.CompletionWindowMinutes = aws.Int64(maxMin + 1) }, "CompletionWindowMinutes"},
		{"completion window maxint", func(r *types.BackupRuleInput) { r.CompletionWindowMinutes = aws.Int64(1<<63 - 1) }, "CompletionWindowMinutes"},
		{"all at their max", func(r *types.BackupRuleInput) {
			r.Lifecycle = life(maxDays, maxDays-90)
			r.StartWindowMinutes, r.CompletionWindowMinutes = aws.Int64(maxMin-60), aws.Int64(maxMin)
		}, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := hourlyPlan(fmt.Sprintf("bounds-%d", i), "pb")
			tt.mutate(&p.Rules[0])
			out, err := c.CreateBackupPlan(ctx, &backup.CreateBackupPlanInput{BackupPlan: p})
			if tt.msg != "" {
				if apiCode(err) != "InvalidParameterValueException" || !strings.Contains(err.Error(), tt.msg) {
					t.Fatalf("got %v, want InvalidParameterValueException mentioning %q", err, tt.msg)
				}
				return
			}
			if err != nil {
				t.Fatalf("CreateBackupPlan: %v", err)
			}
			got, err := c.GetBackupPlan(ctx, &backup.GetBackupPlanInput{BackupPlanId: out.BackupPlanId})
			if err != nil {
				t.Fatal(err)
			}
			r := got.BackupPlan.Rules[0]
			if aws.ToInt64(r.Lifecycle.DeleteAfterDays) != maxDays || aws.ToInt64(r.CompletionWindowMinutes) != maxMin {
				t.Fatalf("stored rule %+v / %+v", r, r.Lifecycle)
			}
		})
	}
}
