package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/cofferbackup/coffer/internal/clock"
	"github.com/cofferbackup/coffer/internal/coffertest"
)

func hourlyPlan(name, vault string) *types.BackupPlanInput {
	return &types.BackupPlanInput{BackupPlanName: aws.String(name), Rules: []types.BackupRuleInput{{
		RuleName: aws.String("hourly"), TargetBackupVaultName: aws.String(vault), ScheduleExpression: aws.String("cron(0 * ? * * *)"),
		ScheduleExpressionTimezone: aws.String("Europe/Paris"), StartWindowMinutes: aws.Int64(60), CompletionWindowMinutes: aws.Int64(180),
		Lifecycle: &types.Lifecycle{DeleteAfterDays: aws.Int64(7)}, RecoveryPointTags: map[string]string{"plan": name},
	}}, AdvancedBackupSettings: []types.AdvancedBackupSetting{{ResourceType: aws.String("S3"), BackupOptions: map[string]string{"BackupACLs": "disabled"}}}}
}

func TestBackupPlansCRUD(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 28, 22, 10, 0, 0, time.UTC)) // the night before Paris springs forward
	e := coffertest.Start(t, coffertest.Options{Clock: clk})
	c := e.Client
	if _, err := c.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("pv")}); err != nil {
		t.Fatal(err)
	}
	created, err := c.CreateBackupPlan(ctx, &backup.CreateBackupPlanInput{BackupPlan: hourlyPlan("nightly", "pv"), CreatorRequestId: aws.String("once")})
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.CreateBackupPlan(ctx, &backup.CreateBackupPlanInput{BackupPlan: hourlyPlan("nightly", "pv"), CreatorRequestId: aws.String("once")})
	if err != nil || aws.ToString(again.BackupPlanId) != aws.ToString(created.BackupPlanId) {
		t.Fatalf("CreatorRequestId not honoured: %v %v", again, err)
	}
	id := created.BackupPlanId
	got, err := c.GetBackupPlan(ctx, &backup.GetBackupPlanInput{BackupPlanId: id, MaxScheduledRunsPreview: 3})
	if err != nil {
		t.Fatal(err)
	}
	r := got.BackupPlan.Rules[0]
	if aws.ToString(got.BackupPlan.BackupPlanName) != "nightly" || aws.ToString(r.RuleId) == "" || aws.ToString(r.ScheduleExpression) != "cron(0 * ? * * *)" ||
		aws.ToInt64(r.Lifecycle.DeleteAfterDays) != 7 || r.RecoveryPointTags["plan"] != "nightly" || aws.ToString(got.VersionId) != aws.ToString(created.VersionId) {
		t.Fatalf("GetBackupPlan: %+v / rule %+v", got, r)
	}
	if len(got.ScheduledRunsPreview) != 3 || !aws.ToTime(got.ScheduledRunsPreview[0].ExecutionTime).Equal(time.Date(2026, 3, 28, 23, 0, 0, 0, time.UTC)) ||
		aws.ToString(got.ScheduledRunsPreview[0].RuleId) != aws.ToString(r.RuleId) {
		t.Fatalf("ScheduledRunsPreview: %+v", got.ScheduledRunsPreview)
	}
	// Update: a new version; the rule keeps its id.
	upd := hourlyPlan("nightly-v2", "pv")
	upd.Rules[0].ScheduleExpression = aws.String("cron(30 2 ? * * *)")
	updated, err := c.UpdateBackupPlan(ctx, &backup.UpdateBackupPlanInput{BackupPlanId: id, BackupPlan: upd})
	if err != nil || aws.ToString(updated.VersionId) == aws.ToString(created.VersionId) {
		t.Fatalf("UpdateBackupPlan: %+v %v", updated, err)
	}
	old, err := c.GetBackupPlan(ctx, &backup.GetBackupPlanInput{BackupPlanId: id, VersionId: created.VersionId})
	if err != nil || aws.ToString(old.BackupPlan.BackupPlanName) != "nightly" {
		t.Fatalf("old version: %+v %v", old, err)
	}
	cur, _ := c.GetBackupPlan(ctx, &backup.GetBackupPlanInput{BackupPlanId: id})
	if aws.ToString(cur.BackupPlan.Rules[0].RuleId) != aws.ToString(r.RuleId) || aws.ToString(cur.BackupPlan.BackupPlanName) != "nightly-v2" {
		t.Fatalf("current version: %+v", cur.BackupPlan)
	}
	versions, err := c.ListBackupPlanVersions(ctx, &backup.ListBackupPlanVersionsInput{BackupPlanId: id})
	if err != nil || len(versions.BackupPlanVersionsList) != 2 {
		t.Fatalf("ListBackupPlanVersions: %+v %v", versions, err)
	}
	checkSelections(t, c, aws.ToString(id))
	// Templates round-trip.
	tmpl, err := c.ExportBackupPlanTemplate(ctx, &backup.ExportBackupPlanTemplateInput{BackupPlanId: id})
	if err != nil || strings.Contains(aws.ToString(tmpl.BackupPlanTemplateJson), "RuleId") {
		t.Fatalf("ExportBackupPlanTemplate: %v %v", tmpl, err)
	}
	fromJSON, err := c.GetBackupPlanFromJSON(ctx, &backup.GetBackupPlanFromJSONInput{BackupPlanTemplateJson: tmpl.BackupPlanTemplateJson})
	if err != nil || aws.ToString(fromJSON.BackupPlan.BackupPlanName) != "nightly-v2" {
		t.Fatalf("GetBackupPlanFromJSON: %v %v", fromJSON, err)
	}
	if _, err := c.GetBackupPlanFromJSON(ctx, &backup.GetBackupPlanFromJSONInput{BackupPlanTemplateJson: aws.String(`{"Nope":1}`)}); apiCode(err) != "InvalidParameterValueException" {
		t.Fatalf("bad template: %v", err)
	}
	// Delete: listed only with includeDeleted.
	del, err := c.DeleteBackupPlan(ctx, &backup.DeleteBackupPlanInput{BackupPlanId: id})
	if err != nil || del.DeletionDate == nil {
		t.Fatalf("DeleteBackupPlan: %+v %v", del, err)
	}
	live, _ := c.ListBackupPlans(ctx, &backup.ListBackupPlansInput{})
	all, _ := c.ListBackupPlans(ctx, &backup.ListBackupPlansInput{IncludeDeleted: aws.Bool(true)})
	if len(live.BackupPlansList) != 0 || len(all.BackupPlansList) != 1 || all.BackupPlansList[0].DeletionDate == nil {
		t.Fatalf("after delete: live %d, all %d", len(live.BackupPlansList), len(all.BackupPlansList))
	}
}

func checkSelections(t *testing.T, c *backup.Client, planID string) {
	t.Helper()
	sel, err := c.CreateBackupSelection(ctx, &backup.CreateBackupSelectionInput{BackupPlanId: aws.String(planID), BackupSelection: &types.BackupSelection{
		SelectionName: aws.String("tagged"), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x"),
		Resources: []string{"arn:aws:s3:::logs-*"}, NotResources: []string{"arn:aws:s3:::logs-tmp"},
		ListOfTags: []types.Condition{{ConditionKey: aws.String("backup"), ConditionValue: aws.String("true"), ConditionType: types.ConditionTypeStringequals}},
		Conditions: &types.Conditions{StringEquals: []types.ConditionParameter{{ConditionKey: aws.String("aws:ResourceTag/env"), ConditionValue: aws.String("prod")}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.GetBackupSelection(ctx, &backup.GetBackupSelectionInput{BackupPlanId: aws.String(planID), SelectionId: sel.SelectionId})
	if err != nil || aws.ToString(got.BackupSelection.SelectionName) != "tagged" || got.BackupSelection.Resources[0] != "arn:aws:s3:::logs-*" ||
		aws.ToString(got.BackupSelection.Conditions.StringEquals[0].ConditionValue) != "prod" || got.BackupSelection.ListOfTags[0].ConditionType != types.ConditionTypeStringequals {
		t.Fatalf("GetBackupSelection: %+v %v", got, err)
	}
	list, err := c.ListBackupSelections(ctx, &backup.ListBackupSelectionsInput{BackupPlanId: aws.String(planID)})
	if err != nil || len(list.BackupSelectionsList) != 1 || aws.ToString(list.BackupSelectionsList[0].SelectionName) != "tagged" {
		t.Fatalf("ListBackupSelections: %+v %v", list, err)
	}
	if _, err := c.DeleteBackupPlan(ctx, &backup.DeleteBackupPlanInput{BackupPlanId: aws.String(planID)}); apiCode(err) != "InvalidRequestException" {
		t.Fatalf("plan with selections deleted: %v", err)
	}
	if _, err := c.CreateBackupSelection(ctx, &backup.CreateBackupSelectionInput{BackupPlanId: aws.String(planID), BackupSelection: &types.BackupSelection{
		SelectionName: aws.String("bad"), IamRoleArn: aws.String("r"), Resources: []string{"arn:aws:ec2:::i-1"}}}); apiCode(err) != "InvalidParameterValueException" {
		t.Fatalf("bad selection: %v", err)
	}
	if _, err := c.DeleteBackupSelection(ctx, &backup.DeleteBackupSelectionInput{BackupPlanId: aws.String(planID), SelectionId: sel.SelectionId}); err != nil {
		t.Fatal(err)
	}
}

func TestBackupPlanValidation(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{})
	c := e.Client
	if _, err := c.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("pv")}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(*types.BackupPlanInput)
		msg    string
	}{
		{"bad cron", func(p *types.BackupPlanInput) { p.Rules[0].ScheduleExpression = aws.String("cron(0 5 * * * *)") }, "?"},
		{"too frequent", func(p *types.BackupPlanInput) { p.Rules[0].ScheduleExpression = aws.String("cron(*/15 * ? * * *)") }, "hour"},
		{"bad zone", func(p *types.BackupPlanInput) { p.Rules[0].ScheduleExpressionTimezone = aws.String("Mars/Olympus") }, "Mars/Olympus"},
		{"missing vault", func(p *types.BackupPlanInput) { p.Rules[0].TargetBackupVaultName = aws.String("nope") }, "nope"},
		{"short window", func(p *types.BackupPlanInput) { p.Rules[0].StartWindowMinutes = aws.Int64(30) }, "StartWindowMinutes"},
		{"cold too close", func(p *types.BackupPlanInput) {
			p.Rules[0].Lifecycle = &types.Lifecycle{MoveToColdStorageAfterDays: aws.Int64(30), DeleteAfterDays: aws.Int64(100)}
		}, "90 days"},
		{"bad copy", func(p *types.BackupPlanInput) {
			p.Rules[0].CopyActions = []types.CopyAction{{DestinationBackupVaultArn: aws.String("vault-b")}}
		}, "DestinationBackupVaultArn"},
		{"no rules", func(p *types.BackupPlanInput) { p.Rules = []types.BackupRuleInput{} }, "rule"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := hourlyPlan("v", "pv")
			tt.mutate(p)
			_, err := c.CreateBackupPlan(ctx, &backup.CreateBackupPlanInput{BackupPlan: p})
			if apiCode(err) != "InvalidParameterValueException" || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("got %v, want InvalidParameterValueException mentioning %q", err, tt.msg)
			}
		})
	}
}
