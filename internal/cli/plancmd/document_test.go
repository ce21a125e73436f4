package plancmd

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/cofferbackup/coffer/internal/cli"
)

const planJSON = `{
  "BackupPlanName": "hourly-prod",
  "Rules": [{
    "RuleName": "hourly",
    "TargetBackupVaultName": "main",
    "ScheduleExpression": "cron(0 * ? * * *)",
    "ScheduleExpressionTimezone": "Europe/Paris",
    "StartWindowMinutes": 60,
    "Lifecycle": {"DeleteAfterDays": 35},
    "RecoveryPointTags": {"team": "ops"},
    "CopyActions": [{"DestinationBackupVaultArn": "arn:aws:backup:us-east-1:000000000000:backup-vault:copy"}]
  }],
  "AdvancedBackupSettings": [{"ResourceType": "S3", "BackupOptions": {"BackupACLs": "disabled"}}]
}`

var wantPlan = &types.BackupPlanInput{
	BackupPlanName: aws.String("hourly-prod"),
	Rules: []types.BackupRuleInput{{
		RuleName: aws.String("hourly"), TargetBackupVaultName: aws.String("main"), ScheduleExpression: aws.String("cron(0 * ? * * *)"),
		ScheduleExpressionTimezone: aws.String("Europe/Paris"), StartWindowMinutes: aws.Int64(60),
		Lifecycle: &types.Lifecycle{DeleteAfterDays: aws.Int64(35)}, RecoveryPointTags: map[string]string{"team": "ops"},
		CopyActions: []types.CopyAction{{DestinationBackupVaultArn: aws.String("arn:aws:backup:us-east-1:000000000000:backup-vault:copy")}},
	}},
	AdvancedBackupSettings: []types.AdvancedBackupSetting{{ResourceType: aws.String("S3"), BackupOptions: map[string]string{"BackupACLs": "disabled"}}},
}

// wrappedPlan is planJSON as `aws backup get-backup-plan` prints it: with
// the rule's id and the plan's own members.
var wrappedPlan = `{
  "BackupPlan": ` + strings.Replace(planJSON, `"RuleName"`, `"RuleId": "r-1", "RuleName"`, 1) + `,
  "BackupPlanId": "p-1", "BackupPlanArn": "arn:aws:backup:us-east-1:000000000000:backup-plan:p-1",
  "VersionId": "v1", "CreationDate": "2026-03-28T22:10:00.000000+00:00",
  "ScheduledRunsPreview": [{"ExecutionTime": 1774738800, "RuleId": "r-1", "RuleExecutionType": "SNAPSHOTS"}]
}`

const selectionJSON = `{
  "SelectionName": "prod",
  "IamRoleArn": "arn:aws:iam::000000000000:role/ignored",
  "Resources": ["*"],
  "NotResources": ["arn:aws:s3:::tmp-*"],
  "ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": "backup", "ConditionValue": "true"}],
  "Conditions": {"StringEquals": [{"ConditionKey": "aws:ResourceTag/env", "ConditionValue": "prod"}]}
}`

var wantSelection = &types.BackupSelection{
	SelectionName: aws.String("prod"), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/ignored"),
	Resources: []string{"*"}, NotResources: []string{"arn:aws:s3:::tmp-*"},
	ListOfTags: []types.Condition{{ConditionType: types.ConditionTypeStringequals, ConditionKey: aws.String("backup"), ConditionValue: aws.String("true")}},
	Conditions: &types.Conditions{StringEquals: []types.ConditionParameter{{ConditionKey: aws.String("aws:ResourceTag/env"), ConditionValue: aws.String("prod")}}},
}

func TestDecodePlan(t *testing.T) {
	tests := []struct {
		name, doc, wantErr string
	}{
		{name: "plain", doc: planJSON},
		{name: "wrapped as get-backup-plan prints it", doc: wrappedPlan},
		{name: "wrapped alone", doc: `{"BackupPlan": ` + planJSON + `}`},
		{name: "unknown field", doc: strings.Replace(planJSON, `"StartWindowMinutes"`, `"StartWindowMinute"`, 1),
			wantErr: `unknown field "Rules[0].StartWindowMinute"`},
		{name: "wrong case", doc: strings.Replace(planJSON, `"BackupPlanName"`, `"backupPlanName"`, 1), wantErr: `unknown field "backupPlanName"`},
		{name: "deep unknown field", doc: strings.Replace(planJSON, `"DeleteAfterDays"`, `"DeleteAfter"`, 1),
			wantErr: `unknown field "Rules[0].Lifecycle.DeleteAfter"`},
		{name: "rule id in a plain plan", doc: strings.Replace(planJSON, `"RuleName"`, `"RuleId": "r-1", "RuleName"`, 1),
			wantErr: `unknown field "Rules[0].RuleId"`},
		{name: "unknown wrapper field", doc: `{"BackupPlan": ` + planJSON + `, "BackupPlanTags": {}}`, wantErr: `unknown field "BackupPlanTags"`},
		{name: "unknown field in wrapped plan", doc: `{"BackupPlan": {"Name": "x"}}`, wantErr: `unknown field "BackupPlan.Name"`},
		{name: "bad JSON", doc: "{\n  \"BackupPlanName\": \"x\",\n}", wantErr: "invalid JSON at line 3, column 1"},
		{name: "trailing data", doc: planJSON + "{}", wantErr: "invalid JSON at line 14"},
		{name: "empty", doc: "", wantErr: "invalid JSON"},
		{name: "not an object", doc: `["x"]`, wantErr: "not a backup plan: want a JSON object"},
		{name: "wrong type", doc: strings.Replace(planJSON, `60`, `"60"`, 1),
			wantErr: `field "Rules.StartWindowMinutes" at line 8, column 30: JSON string where int64 is expected`},
		{name: "wrong type wrapped", doc: `{"BackupPlan": {"BackupPlanName": 1}}`,
			wantErr: `field "BackupPlan.BackupPlanName" at line 1, column 35: JSON number`},
		{name: "null wrapped", doc: `{"BackupPlan": null}`, wantErr: "BackupPlan is null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeDocument[types.BackupPlanInput]([]byte(tt.doc), planDoc)
			checkDecoded(t, got, err, wantPlan, tt.wantErr)
		})
	}
}

func TestDecodeSelection(t *testing.T) {
	tests := []struct {
		name, doc, wantErr string
	}{
		{name: "plain", doc: selectionJSON},
		{name: "wrapped as get-backup-selection prints it", doc: `{"BackupSelection": ` + selectionJSON +
			`, "SelectionId": "s-1", "BackupPlanId": "p-1", "CreationDate": 1774738800}`},
		{name: "unknown field", doc: strings.Replace(selectionJSON, `"NotResources"`, `"ExcludedResources"`, 1),
			wantErr: `unknown field "ExcludedResources"`},
		{name: "unknown condition field", doc: strings.Replace(selectionJSON, `"StringEquals"`, `"StringEqual"`, 1),
			wantErr: `unknown field "Conditions.StringEqual"`},
		{name: "bad JSON", doc: `{"SelectionName": "prod"`, wantErr: "invalid JSON: unexpected end of input"},
		{name: "wrong type", doc: `{"Resources": "*"}`, wantErr: `field "Resources" at line 1, column 17: JSON string where []string is expected`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeDocument[types.BackupSelection]([]byte(tt.doc), selectionDoc)
			checkDecoded(t, got, err, wantSelection, tt.wantErr)
		})
	}
}

func checkDecoded[T any](t *testing.T, got *T, err error, want *T, wantErr string) {
	t.Helper()
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("error %v, want %q", err, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded\n%+v\nwant\n%+v", jsonString(t, got), jsonString(t, want))
	}
}

func jsonString(t *testing.T, v any) string {
	var b strings.Builder
	if err := cli.PrintJSON(&b, v); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestReadDocument(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := os.WriteFile(path, []byte(planJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, "file://" + path} {
		if got, err := readDocument[types.BackupPlanInput](p, planDoc); err != nil || !reflect.DeepEqual(got, wantPlan) {
			t.Errorf("readDocument(%s) = %v, %v", p, got, err)
		}
	}
	if _, err := readDocument[types.BackupPlanInput](path+".missing", planDoc); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if err := os.WriteFile(path, []byte(`{"Rules": [{"Nope": 1}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readDocument[types.BackupPlanInput](path, planDoc); err == nil || err.Error() != path+`: unknown field "Rules[0].Nope"` {
		t.Errorf("error does not name the file and the field: %v", err)
	}
}
