// End-to-end tests of the plan, selection, tag and resource commands
// against a real coffer server (clitest.StartServer) and MinIO.

package plancmd

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/cli/clitest"
	"github.com/cofferbackup/coffer/internal/testserver"
)

// planJSONOut is what `plan get --json` prints.
type planJSONOut struct {
	BackupPlanId, BackupPlanArn, VersionId, DeletionDate string
	BackupPlan                                           struct {
		BackupPlanName string
		Rules          []struct{ RuleName, RuleId, ScheduleExpression string }
	}
	ScheduledRunsPreview []struct{ ExecutionTime, RuleId string }
}

// writeFile writes content to path, making its directory.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// tempFile writes content to a new file named name and returns its path.
func tempFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	writeFile(t, path, content)
	return path
}

func TestCLIPlansAndSelections(t *testing.T) {
	endpoint, creds, _ := clitest.StartServer(t)
	e := clitest.NewEnv(t, endpoint, creds)
	vault := testserver.UniqueBucketName("vault")
	e.Run("vault", "create", vault)

	planFile := tempFile(t, "plan.json", fmt.Sprintf(`{"BackupPlanName": "daily", "Rules": [{"RuleName": "daily",
		"TargetBackupVaultName": %q, "ScheduleExpression": "cron(0 3 ? * * *)", "ScheduleExpressionTimezone": "UTC",
		"StartWindowMinutes": 60, "Lifecycle": {"DeleteAfterDays": 7}}]}`, vault))
	if _, errOut := e.Fail("plan", "create", "--file", tempFile(t, "bad.json", `{"Rules": [{"Nope": 1}]}`)); !strings.Contains(errOut, `unknown field "Rules[0].Nope"`) {
		t.Errorf("plan create of a plan with an unknown field:\n%s", errOut)
	}
	var created planJSONOut
	e.RunJSON(&created, "plan", "create", "--file", planFile, "--tag", "team=ops")
	id := created.BackupPlanId
	got := checkPlanGet(t, e, id, "daily")
	ruleID := got.BackupPlan.Rules[0].RuleId

	// Update with what `plan get --json` printed, renamed.
	getOut := e.Run("plan", "get", id, "--json")
	wrapped := tempFile(t, "wrapped.json", strings.Replace(getOut, `"BackupPlanName": "daily"`, `"BackupPlanName": "daily-v2"`, 1))
	var updated planJSONOut
	if e.RunJSON(&updated, "plan", "update", id, "--file", wrapped); updated.VersionId == "" || updated.VersionId == created.VersionId {
		t.Errorf("plan update: version %q, was %q", updated.VersionId, created.VersionId)
	}
	var cur, old planJSONOut
	e.RunJSON(&cur, "plan", "get", id)
	e.RunJSON(&old, "plan", "get", id, "--version", created.VersionId)
	if cur.BackupPlan.BackupPlanName != "daily-v2" || cur.BackupPlan.Rules[0].RuleId != ruleID || old.BackupPlan.BackupPlanName != "daily" {
		t.Errorf("after update: current %+v, first version %+v", cur, old)
	}
	var versions struct{ BackupPlanVersionsList []planJSONOut }
	e.RunJSON(&versions, "plan", "versions", id)
	var vids []string
	for _, v := range versions.BackupPlanVersionsList {
		vids = append(vids, v.VersionId)
	}
	if !clitest.SameSet(vids, []string{created.VersionId, updated.VersionId}) {
		t.Errorf("plan versions = %q, want %s and %s", vids, created.VersionId, updated.VersionId)
	}
	if out := e.Run("plan", "versions", id); len(strings.Split(strings.TrimSpace(out), "\n")) != 3 || !strings.Contains(out, updated.VersionId) {
		t.Errorf("plan versions table:\n%s", out)
	}
	var tags struct{ Tags map[string]string }
	if e.RunJSON(&tags, "tag", "list", created.BackupPlanArn); !reflect.DeepEqual(tags.Tags, map[string]string{"team": "ops"}) {
		t.Errorf("plan tags = %v, want the creation tag", tags.Tags)
	}

	checkSelections(t, e, id)
	checkTemplate(t, e, id)
	e.Run("plan", "delete", id)
	checkDeletedPlan(t, e, id)
}

// checkPlanGet checks `plan get --preview` of the daily plan id named name,
// as JSON and for humans, and returns the JSON.
func checkPlanGet(t *testing.T, e *clitest.Env, id, name string) planJSONOut {
	t.Helper()
	var got planJSONOut
	e.RunJSON(&got, "plan", "get", id, "--preview", "3")
	if got.BackupPlan.BackupPlanName != name || len(got.BackupPlan.Rules) != 1 || got.BackupPlan.Rules[0].RuleId == "" {
		t.Fatalf("plan get = %+v", got)
	}
	if len(got.ScheduledRunsPreview) != 3 {
		t.Fatalf("plan get --preview 3: runs %+v", got.ScheduledRunsPreview)
	}
	var prev time.Time
	for i, r := range got.ScheduledRunsPreview {
		at, err := time.Parse(time.RFC3339, r.ExecutionTime)
		if err != nil || at.Hour() != 3 || at.Minute() != 0 || !at.After(time.Now()) || r.RuleId != got.BackupPlan.Rules[0].RuleId ||
			(i > 0 && at.Sub(prev) != 24*time.Hour) {
			t.Errorf("run %d = %+v (%v), want daily at 03:00 UTC by rule %s", i, r, err, got.BackupPlan.Rules[0].RuleId)
		}
		prev = at
	}
	out := e.Run("plan", "get", id, "--preview", "2")
	for _, w := range []string{"Name: ", name, "Version:", "RULE", "cron(0 3 ? * * *)", "60 min", "NEXT RUN", got.ScheduledRunsPreview[1].ExecutionTime} {
		if !strings.Contains(out, w) {
			t.Errorf("plan get lacks %q:\n%s", w, out)
		}
	}
	return got
}

// checkSelections creates a selection in plan id from a file, lists and
// gets it, checks that the plan cannot be deleted while it exists, and
// deletes it.
func checkSelections(t *testing.T, e *clitest.Env, id string) {
	t.Helper()
	selFile := tempFile(t, "selection.json", `{"SelectionName": "prod", "IamRoleArn": "arn:aws:iam::000000000000:role/ignored",
		"Resources": ["arn:aws:s3:::coffer-e2e-none-*"], "Conditions": {"StringEquals": [{"ConditionKey": "aws:ResourceTag/env", "ConditionValue": "prod"}]}}`)
	var sel struct{ SelectionId, BackupPlanId string }
	if e.RunJSON(&sel, "selection", "create", "--plan", id, "--file", selFile); sel.SelectionId == "" || sel.BackupPlanId != id {
		t.Fatalf("selection create = %+v", sel)
	}
	var list struct {
		BackupSelectionsList []struct{ SelectionId, SelectionName string }
	}
	if e.RunJSON(&list, "selection", "list", "--plan", id); len(list.BackupSelectionsList) != 1 ||
		list.BackupSelectionsList[0].SelectionId != sel.SelectionId || list.BackupSelectionsList[0].SelectionName != "prod" {
		t.Errorf("selection list = %+v", list)
	}
	if out := e.Run("selection", "list", "--plan", id); !strings.HasPrefix(out, "ID") || !strings.Contains(out, sel.SelectionId) {
		t.Errorf("selection list table:\n%s", out)
	}
	var got struct {
		BackupSelection struct {
			SelectionName string
			Resources     []string
		}
	}
	if e.RunJSON(&got, "selection", "get", "--plan", id, sel.SelectionId); got.BackupSelection.SelectionName != "prod" ||
		!reflect.DeepEqual(got.BackupSelection.Resources, []string{"arn:aws:s3:::coffer-e2e-none-*"}) {
		t.Errorf("selection get = %+v", got)
	}
	out := e.Run("selection", "get", "--plan", id, sel.SelectionId)
	for _, w := range []string{"Name:", "prod", "Resources:", "arn:aws:s3:::coffer-e2e-none-*", "Conditions:", "StringEquals aws:ResourceTag/env=prod"} {
		if !strings.Contains(out, w) {
			t.Errorf("selection get lacks %q:\n%s", w, out)
		}
	}
	if _, errOut := e.Fail("plan", "delete", id); !strings.Contains(errOut, "coffer: delete plan "+id+": InvalidRequestException: ") {
		t.Errorf("plan delete with a selection:\n%s", errOut)
	}
	if _, errOut := e.Fail("selection", "get", sel.SelectionId); !strings.Contains(errOut, "--plan is required") {
		t.Errorf("selection get without --plan:\n%s", errOut)
	}
	e.Run("selection", "delete", "--plan", id, sel.SelectionId)
	if e.RunJSON(&list, "selection", "list", "--plan", id); len(list.BackupSelectionsList) != 0 {
		t.Errorf("selection list after delete = %+v", list)
	}
}

// checkTemplate exports plan id and reads the template back.
func checkTemplate(t *testing.T, e *clitest.Env, id string) {
	t.Helper()
	tmpl := e.Run("plan", "export", id)
	if strings.Contains(tmpl, "RuleId") || !json.Valid([]byte(tmpl)) {
		t.Errorf("plan export: not a template:\n%s", tmpl)
	}
	var plan, cur planJSONOut
	e.RunJSON(&plan, "plan", "from-json", "--file", tempFile(t, "template.json", tmpl))
	e.RunJSON(&cur, "plan", "get", id)
	if plan.BackupPlan.BackupPlanName != cur.BackupPlan.BackupPlanName || len(plan.BackupPlan.Rules) != 1 ||
		plan.BackupPlan.Rules[0].ScheduleExpression != cur.BackupPlan.Rules[0].ScheduleExpression {
		t.Errorf("plan from-json = %+v, want %+v", plan.BackupPlan, cur.BackupPlan)
	}
	if out := e.Run("plan", "from-json", "--file", tempFile(t, "template.json", tmpl)); !strings.Contains(out, "cron(0 3 ? * * *)") {
		t.Errorf("plan from-json:\n%s", out)
	}
	if _, errOut := e.Fail("plan", "from-json", "--file", tempFile(t, "bad.json", `{"Nope": 1}`)); !strings.Contains(errOut, "InvalidParameterValueException") {
		t.Errorf("plan from-json of a bad template:\n%s", errOut)
	}
}

// checkDeletedPlan checks that the deleted plan id is listed only with
// --include-deleted.
func checkDeletedPlan(t *testing.T, e *clitest.Env, id string) {
	t.Helper()
	var live, all struct{ BackupPlansList []planJSONOut }
	e.RunJSON(&live, "plan", "list")
	e.RunJSON(&all, "plan", "list", "--include-deleted")
	if len(live.BackupPlansList) != 0 || len(all.BackupPlansList) != 1 || all.BackupPlansList[0].BackupPlanId != id ||
		all.BackupPlansList[0].DeletionDate == "" {
		t.Errorf("plan list after delete: %+v, with --include-deleted %+v", live, all)
	}
	if out := e.Run("plan", "list", "--include-deleted"); !strings.HasPrefix(out, "ID") || !strings.Contains(out, id) {
		t.Errorf("plan list --include-deleted table:\n%s", out)
	}
}

func TestCLITagsAndResources(t *testing.T) {
	endpoint, creds, s3 := clitest.StartServer(t)
	e := clitest.NewEnv(t, endpoint, creds)
	vault := testserver.UniqueBucketName("vault")
	var v struct{ BackupVaultArn string }
	e.RunJSON(&v, "vault", "create", vault, "--tag", "purpose=e2e")
	arn := v.BackupVaultArn

	e.Run("tag", "add", arn, "env=prod", "team=ops")
	var tags struct{ Tags map[string]string }
	if e.RunJSON(&tags, "tag", "list", arn); !reflect.DeepEqual(tags.Tags, map[string]string{"purpose": "e2e", "env": "prod", "team": "ops"}) {
		t.Errorf("tags after add = %v", tags.Tags)
	}
	e.Run("tag", "remove", arn, "env", "purpose")
	tags.Tags = nil // json.Unmarshal adds to a map
	if e.RunJSON(&tags, "tag", "list", arn); !reflect.DeepEqual(tags.Tags, map[string]string{"team": "ops"}) {
		t.Errorf("tags after remove = %v", tags.Tags)
	}
	if out := e.Run("tag", "list", arn); !strings.HasPrefix(out, "KEY") || !strings.Contains(out, "team  ops") {
		t.Errorf("tag list table:\n%s", out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"add", arn}, "expected a resource ARN and one or more KEY=VALUE"},
		{[]string{"add", arn, "novalue"}, `tag "novalue" is not KEY=VALUE`},
		{[]string{"remove", arn}, "expected a resource ARN and one or more tag KEY"},
	} {
		if _, errOut := e.Fail(append([]string{"tag"}, tc.args...)...); !strings.Contains(errOut, tc.want) {
			t.Errorf("tag %q: stderr lacks %q:\n%s", tc.args, tc.want, errOut)
		}
	}

	src := s3.NewBucket(t, false)
	clitest.PutObjects(t, s3.Client(t), src, map[string]string{"a": "1"})
	var job clitest.JobJSON
	e.RunJSON(&job, "backup", "start", "--vault", vault, "--bucket", src, "--wait")
	bucketARN := "arn:aws:s3:::" + src
	var res struct {
		Results []struct{ ResourceArn, ResourceType, LastRecoveryPointArn string }
	}
	e.RunJSON(&res, "resource", "list")
	if len(res.Results) != 1 || res.Results[0].ResourceArn != bucketARN || res.Results[0].LastRecoveryPointArn != job.RecoveryPointArn {
		t.Errorf("resource list = %+v, want %s with %s", res, bucketARN, job.RecoveryPointArn)
	}
	if out := e.Run("resource", "list"); !strings.HasPrefix(out, "RESOURCE") || !strings.Contains(out, bucketARN) {
		t.Errorf("resource list table:\n%s", out)
	}
	var desc struct{ ResourceArn, ResourceName, LastRecoveryPointArn string }
	if e.RunJSON(&desc, "resource", "describe", bucketARN); desc.ResourceName != src || desc.LastRecoveryPointArn != job.RecoveryPointArn {
		t.Errorf("resource describe = %+v", desc)
	}
	if out := e.Run("resource", "describe", bucketARN); !regexp.MustCompile(`(?m)^Last recovery point: +` + regexp.QuoteMeta(job.RecoveryPointArn) + `$`).MatchString(out) {
		t.Errorf("resource describe:\n%s", out)
	}
	if _, errOut := e.Fail("resource", "describe", "arn:aws:s3:::"+testserver.UniqueBucketName("missing")); !strings.Contains(errOut, "ResourceNotFoundException") {
		t.Errorf("resource describe of a bucket without backups:\n%s", errOut)
	}
}
