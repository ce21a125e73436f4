package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"

	"github.com/cofferbackup/coffer/internal/coffertest"
)

// fuzzOps are the operations FuzzAPI drives: method and path, where {arg}
// is the fuzzed path argument (escaped) and {plan} the seeded plan's id.
// AttachBackupVault is left out: its body names a directory of the
// server's machine that it moves.
var fuzzOps = []struct{ method, path string }{
	{"PUT", "/backup-vaults/{arg}"},                       // 0 CreateBackupVault
	{"PUT", "/backup-jobs"},                               // 1 StartBackupJob
	{"PUT", "/restore-jobs"},                              // 2 StartRestoreJob
	{"PUT", "/backup/plans"},                              // 3 CreateBackupPlan
	{"POST", "/backup/plans/{plan}"},                      // 4 UpdateBackupPlan
	{"PUT", "/backup/plans/{plan}/selections"},            // 5 CreateBackupSelection
	{"POST", "/tags/{arg}"},                               // 6 TagResource
	{"POST", "/untag/{arg}"},                              // 7 UntagResource
	{"POST", "/backup/template/json/toPlan"},              // 8 GetBackupPlanFromJSON
	{"PUT", "/maintenance-jobs"},                          // 9 StartMaintenanceJob
	{"GET", "/backup-jobs"},                               // 10 ListBackupJobs
	{"GET", "/backup-vaults/{arg}/recovery-points"},       // 11 ListRecoveryPointsByBackupVault
	{"GET", "/restore-jobs"},                              // 12 ListRestoreJobs
	{"GET", "/backup/plans/{plan}"},                       // 13 GetBackupPlan
	{"GET", "/maintenance-jobs"},                          // 14 ListMaintenanceJobs
	{"GET", "/resources/{arg}"},                           // 15 DescribeProtectedResource
	{"GET", "/backup-vaults/{arg}/recovery-points/{arg}"}, // 16 DescribeRecoveryPoint
	{"GET", "/tags/{arg}"},                                // 17 ListTags
	{"GET", "/backup/plans"},                              // 18 ListBackupPlans
	{"GET", "/backup/plans/{plan}/versions"},              // 19 ListBackupPlanVersions
	{"GET", "/backup/plans/{plan}/selections"},            // 20 ListBackupSelections
	{"GET", "/backup-vaults"},                             // 21 ListBackupVaults
	{"GET", "/resources"},                                 // 22 ListProtectedResources
	{"GET", "/backup/plans/{arg}/toTemplate"},             // 23 ExportBackupPlanTemplate
	{"GET", "/backup-jobs/{arg}"},                         // 24 DescribeBackupJob
	{"POST", "/backup-jobs/{arg}"},                        // 25 StopBackupJob
	{"GET", "/restore-jobs/{arg}"},                        // 26 DescribeRestoreJob
	{"POST", "/maintenance-jobs/{arg}"},                   // 27 StopMaintenanceJob
	{"DELETE", "/backup/plans/{plan}/selections/{arg}"},   // 28 DeleteBackupSelection
	{"POST", "/verification-jobs"},                        // 29 StartVerificationJob
	{"GET", "/verification-jobs"},                         // 30 ListVerificationJobs
	{"GET", "/verification-jobs/{arg}"},                   // 31 DescribeVerificationJob
}

// FuzzAPI sends arbitrary bodies, path arguments and query strings to the
// operations above, signed with the root credentials, through the real
// HTTP API over a real service (catalog, vaults, MinIO). Whatever the
// input: no 5xx (a panic would be one), every error a 4xx carrying an
// AWS error code in the header and the body, every success valid JSON.
func FuzzAPI(f *testing.F) {
	fz := newFuzzEnv(f)
	for _, s := range fuzzSeeds(fz.bucket, fz.rp) {
		f.Add(s.op, s.arg, s.query, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, op uint8, arg, query string, body []byte) {
		o := fuzzOps[int(op)%len(fuzzOps)]
		fz.send(t, o.method, strings.ReplaceAll(o.path, "{arg}", url.PathEscape(arg)), query, body)
	})
}

// fuzzEnv is a running coffer with a vault "fz", a recovery point of a
// small bucket and a plan.
type fuzzEnv struct {
	e                *coffertest.Env
	bucket, rp, plan string
}

func newFuzzEnv(f *testing.F) *fuzzEnv {
	e := coffertest.Start(f, coffertest.Options{MaxJobs: 1, Parallelism: 2})
	c := e.Client
	if _, err := c.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("fz")}); err != nil {
		f.Fatal(err)
	}
	bucket := e.S3.NewBucket(f, true)
	coffertest.FillBucket(f, e.S3.Client(f), bucket, "k/", 2, 10)
	job, err := c.StartBackupJob(ctx, &backup.StartBackupJobInput{BackupVaultName: aws.String("fz"),
		ResourceArn: aws.String("arn:aws:s3:::" + bucket), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x")})
	if err != nil {
		f.Fatal(err)
	}
	rp := aws.ToString(e.WaitBackup(f, aws.ToString(job.BackupJobId)).RecoveryPointArn)
	p, err := c.CreateBackupPlan(ctx, &backup.CreateBackupPlanInput{BackupPlan: hourlyPlan("fz", "fz")})
	if err != nil {
		f.Fatal(err)
	}
	return &fuzzEnv{e: e, bucket: bucket, rp: rp, plan: aws.ToString(p.BackupPlanId)}
}

// send signs and sends one request ({plan} in path is the plan's id) and
// checks the answer.
func (fz *fuzzEnv) send(t *testing.T, method, path, query string, body []byte) {
	t.Helper()
	path = strings.ReplaceAll(path, "{plan}", fz.plan)
	req, err := http.NewRequest(method, fz.e.Endpoint+path+"?"+query, bytes.NewReader(body))
	if err != nil {
		return // not a request a client can send
	}
	req.Header.Set("Content-Type", "application/json")
	if err := coffertest.Sign(req, fz.e.Creds, body); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	out, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	checkFuzzAnswer(t, method+" "+path+"?"+query, body, resp, out)
}

func checkFuzzAnswer(t *testing.T, what string, body []byte, resp *http.Response, out []byte) {
	t.Helper()
	if resp.StatusCode >= 500 {
		t.Fatalf("%s with body %q: %d %s", what, body, resp.StatusCode, out)
	}
	if !json.Valid(out) {
		t.Fatalf("%s with body %q: %d, answer is not JSON: %q", what, body, resp.StatusCode, out)
	}
	if resp.StatusCode < 400 {
		return
	}
	var ae struct {
		Type string `json:"__type"`
	}
	code := resp.Header.Get("X-Amzn-Errortype")
	if err := json.Unmarshal(out, &ae); err != nil || code == "" || ae.Type != code {
		t.Fatalf("%s with body %q: %d without an AWS error code (header %q, body %s)", what, body, resp.StatusCode, code, out)
	}
}

type fuzzSeed struct {
	op         uint8
	arg, query string
	body       string
}

// fuzzSeeds are valid and nearly valid requests of each operation.
func fuzzSeeds(bucket, rp string) []fuzzSeed {
	vaultARN := "arn:aws:backup:us-east-1:000000000000:backup-vault:fz"
	rule := `{"RuleName":"r","TargetBackupVaultName":"fz","ScheduleExpression":"cron(0 5 ? * * *)","StartWindowMinutes":60,"CompletionWindowMinutes":180,"Lifecycle":{"DeleteAfterDays":35}}`
	plan := `{"BackupPlan":{"BackupPlanName":"p","Rules":[` + rule + `]}}`
	return []fuzzSeed{
		{0, "v-new", "", `{"BackupVaultTags":{"a":"b"},"CreatorRequestId":"r1"}`},
		{0, "bad name!", "", `{}`},
		{1, "", "", `{"BackupVaultName":"fz","ResourceArn":"arn:aws:s3:::` + bucket + `","IamRoleArn":"arn:aws:iam::0:role/x","Lifecycle":{"DeleteAfterDays":36500},"StartWindowMinutes":60,"CompleteWindowMinutes":120}`},
		{1, "", "", `{"BackupVaultName":"fz","ResourceArn":"arn:aws:s3:::` + bucket + `","Lifecycle":{"DeleteAfterDays":200000}}`},
		{1, "", "", `{"BackupVaultName":"fz","ResourceArn":"arn:aws:s3:::` + bucket + `","StartWindowMinutes":9223372036854775807}`},
		{1, "", "", `{"BackupVaultName":"fz","ResourceArn":"arn:aws:s3:::` + bucket + `","Lifecycle":{"MoveToColdStorageAfterDays":-1}}`},
		{1, "", "", `{"BackupVaultName":"fz","ResourceArn":"arn:aws:s3:::` + bucket + `","BackupOptions":{"BackupACLs":"enabled"},"RecoveryPointTags":{"aws:x":"y"}}`},
		{1, "", "", `{"StartWindowMinutes":1e99}`},
		{1, "", "", `[]`},
		{2, "", "", `{"RecoveryPointArn":"` + rp + `","Metadata":{"DestinationBucketName":"fz-restored","NewBucket":"true","ItemsToRestore":"[\"s3://` + bucket + `/k/\"]","RestoreLatestVersionsUpTo":"all"}}`},
		{2, "", "", `{"RecoveryPointArn":"` + rp + `","Metadata":{"DestinationBucketName":"` + bucket + `","ItemsToRestore":"[1]","RestoreLatestVersionsUpTo":"-1","Overwrite":"maybe"}}`},
		{2, "", "", `{"RecoveryPointArn":"arn:aws:backup:us-east-1:000000000000:recovery-point:nope","Metadata":{}}`},
		// Bucket names of the right characters that S3 still refuses.
		{2, "", "", `{"RecoveryPointArn":"` + rp + `","Metadata":{"DestinationBucketName":"a..b","NewBucket":"true"}}`},
		{2, "", "", `{"RecoveryPointArn":"` + rp + `","Metadata":{"DestinationBucketName":"-ab","NewBucket":"true"}}`},
		{2, "", "", `{"RecoveryPointArn":"` + rp + `","Metadata":{"DestinationBucketName":"ab.","NewBucket":"false"}}`},
		{2, "", "", `{"RecoveryPointArn":"` + rp + `","Metadata":{"DestinationBucketName":"192.168.5.4","NewBucket":"true"}}`},
		{3, "", "", plan},
		{3, "", "", `{"BackupPlan":{"BackupPlanName":"p2","Rules":[{"RuleName":"r","TargetBackupVaultName":"fz","ScheduleExpression":"rate(12 hours)","CopyActions":[{"DestinationBackupVaultArn":"` + vaultARN + `","Lifecycle":{"DeleteAfterDays":99999}}]}]}}`},
		{3, "", "", `{"BackupPlan":{"BackupPlanName":"p3","Rules":[{"RuleName":"r","TargetBackupVaultName":"fz","ScheduleExpression":"cron(0 0 L * ? *)","ScheduleExpressionTimezone":"Pacific/Apia"}]}}`},
		{4, "", "", plan},
		{5, "", "", `{"BackupSelection":{"SelectionName":"s","IamRoleArn":"arn:aws:iam::0:role/x","Resources":["arn:aws:s3:::*"],"ListOfTags":[{"ConditionType":"STRINGEQUALS","ConditionKey":"team","ConditionValue":"a"}],"Conditions":{"StringLike":[{"ConditionKey":"aws:ResourceTag/x","ConditionValue":"a*?"}]}}}`},
		{6, vaultARN, "", `{"Tags":{"k":"v"}}`},
		{6, rp, "", `{"Tags":{"":"v"}}`},
		{7, vaultARN, "", `{"TagKeyList":["k"]}`},
		{8, "", "", `{"BackupPlanTemplateJson":` + strconvQuote(plan[len(`{"BackupPlan":`):len(plan)-1]) + `}`},
		{9, "", "", `{"BackupVaultName":"fz"}`},
		{10, "", "byState=COMPLETED&maxResults=2&byCreatedAfter=2026-01-01T00:00:00Z&byResourceArn=arn%3Aaws%3As3%3A%3A%3A" + bucket, ""},
		{10, "", "maxResults=0&nextToken=%00", ""},
		{11, "fz", "byCreatedBefore=1e300&byResourceType=S3", ""},
		{12, "", "byStatus=RUNNING&byCreatedAfter=NaN", ""},
		{13, "", "MaxScheduledRunsPreview=10&versionId=x", ""},
		{14, "", "state=RUNNING&backupVaultName=fz", ""},
		{15, "arn:aws:s3:::" + bucket, "", ""},
		{16, "fz", "", ""},
		{17, rp, "", ""},
		{18, "", "nextToken=garbage!&maxResults=3&includeDeleted=true", ""},
		{19, "", "nextToken=bzox", ""},
		{20, "", "nextToken=bzotMQ&maxResults=1000", ""},
		{21, "", "nextToken=%ff&maxResults=1", ""},
		{22, "", "nextToken=bzo5OTk5OTk5OTk5OTk5OTk5OTk5OTk", ""},
		{23, "nope", "", ""},
		{24, "nope", "", ""},
		{25, "nope", "", ""},
		{26, "nope", "", ""},
		{27, "nope", "", ""},
		{28, "nope", "", ""},
		{29, "", "", `{"BackupVaultName":"fz","ReadDataPercent":100.5,"Seed":18446744073709551615}`},
		{29, "", "", `{"BackupVaultName":"nope","ReadDataPercent":-1e308}`},
		{29, "", "", `{"ReadDataPercent":"x"}`},
		{30, "", "backupVaultName=fz&state=DONE&maxResults=1001", ""},
		{31, "nope", "", ""},
	}
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// fieldOps build well-formed requests around fuzzed field values, so the
// fuzzer explores what the service does with them, past JSON decoding.
var fieldOps = []func(fz *fuzzEnv, s1, s2, s3 string, n1, n2 int64) (method, path, query, body string){
	func(_ *fuzzEnv, s1, s2, s3 string, _, _ int64) (string, string, string, string) {
		return "PUT", "/backup-vaults/" + url.PathEscape(s1), "", `{"BackupVaultTags":{` + q(s2) + `:` + q(s3) + `},"CreatorRequestId":` + q(s1) + `}`
	},
	func(fz *fuzzEnv, s1, s2, s3 string, n1, n2 int64) (string, string, string, string) {
		return "PUT", "/backup-jobs", "", fmt.Sprintf(`{"BackupVaultName":"fz","ResourceArn":%s,"IamRoleArn":"r","IdempotencyToken":%s,`+
			`"Lifecycle":{"DeleteAfterDays":%d,"MoveToColdStorageAfterDays":%d},"StartWindowMinutes":%d,"CompleteWindowMinutes":%d,`+
			`"RecoveryPointTags":{%s:%s},"BackupOptions":{%s:%s}}`, q(s1), q(s3), n1, n2, n2, n1, q(s2), q(s3), q(s3), q(s2))
	},
	func(fz *fuzzEnv, s1, s2, s3 string, _, _ int64) (string, string, string, string) {
		return "PUT", "/restore-jobs", "", fmt.Sprintf(`{"RecoveryPointArn":%s,"Metadata":{"DestinationBucketName":%s,"NewBucket":%s,`+
			`"ItemsToRestore":%s,"RestoreLatestVersionsUpTo":%s,"Overwrite":%s,"RestoreACLs":%s},"ResourceType":%s}`,
			q(fz.rp), q(s1), q(s2), q(s3), q(s2), q(s2), q(s3), q(s3))
	},
	func(fz *fuzzEnv, s1, s2, s3 string, n1, n2 int64) (string, string, string, string) {
		return "PUT", "/backup/plans", "", fmt.Sprintf(`{"BackupPlan":{"BackupPlanName":%s,"Rules":[{"RuleName":%s,"TargetBackupVaultName":"fz",`+
			`"ScheduleExpression":%s,"ScheduleExpressionTimezone":%s,"StartWindowMinutes":%d,"CompletionWindowMinutes":%d,`+
			`"Lifecycle":{"DeleteAfterDays":%d,"MoveToColdStorageAfterDays":%d},"CopyActions":[{"DestinationBackupVaultArn":%s}]}]}}`,
			q(s3), q(s3), q(s1), q(s2), n1, n2, n2, n1, q(s3))
	},
	func(fz *fuzzEnv, s1, s2, s3 string, _, _ int64) (string, string, string, string) {
		return "PUT", "/backup/plans/{plan}/selections", "", fmt.Sprintf(`{"BackupSelection":{"SelectionName":%s,"IamRoleArn":"r",`+
			`"Resources":[%s],"NotResources":[%s],"ListOfTags":[{"ConditionType":%s,"ConditionKey":%s,"ConditionValue":%s}],`+
			`"Conditions":{"StringLike":[{"ConditionKey":%s,"ConditionValue":%s}]}}}`, q(s3), q(s1), q(s2), q(s3), q(s1), q(s2), q(s2), q(s1))
	},
	func(fz *fuzzEnv, s1, s2, s3 string, _, _ int64) (string, string, string, string) {
		return "POST", "/tags/" + url.PathEscape(s1), "", `{"Tags":{` + q(s2) + `:` + q(s3) + `}}`
	},
	func(fz *fuzzEnv, s1, s2, s3 string, n1, _ int64) (string, string, string, string) {
		v := url.Values{"byState": {s1}, "byCreatedAfter": {s2}, "byCreatedBefore": {s3}, "byResourceArn": {s3}, "byBackupVaultName": {s1},
			"maxResults": {fmt.Sprint(n1)}, "nextToken": {s2}}
		return "GET", "/backup-jobs", v.Encode(), ""
	},
	func(fz *fuzzEnv, s1, s2, s3 string, n1, _ int64) (string, string, string, string) {
		v := url.Values{"byResourceArn": {s1}, "byCreatedAfter": {s2}, "byResourceType": {s3}, "byBackupPlanId": {s3},
			"maxResults": {fmt.Sprint(n1)}, "nextToken": {s2}}
		return "GET", "/backup-vaults/fz/recovery-points", v.Encode(), ""
	},
	func(fz *fuzzEnv, s1, s2, _ string, n1, _ int64) (string, string, string, string) {
		v := url.Values{"MaxScheduledRunsPreview": {fmt.Sprint(n1)}, "versionId": {s1}}
		return "GET", "/backup/plans/" + url.PathEscape(s2), v.Encode(), ""
	},
}

func q(s string) string { b, _ := json.Marshal(s); return string(b) }

// FuzzAPIFields: like FuzzAPI, with fuzzed values inside well-formed
// requests of StartBackupJob, StartRestoreJob, CreateBackupVault,
// CreateBackupPlan, CreateBackupSelection, TagResource and list calls.
func FuzzAPIFields(f *testing.F) {
	fz := newFuzzEnv(f)
	items := `["s3://` + fz.bucket + `/k/"]`
	for i := range fieldOps {
		f.Add(uint8(i), "arn:aws:s3:::"+fz.bucket, "true", items, int64(35), int64(180))
		f.Add(uint8(i), "a..b", "cron(0 5 ? * * *)", "Europe/Paris", int64(200_000), int64(-1))
		f.Add(uint8(i), "arn:aws:backup:us-east-1:000000000000:backup-vault:fz", "2026-01-01T00:00:00Z", "BackupACLs", int64(9_223_372_036_854_775_807), int64(60))
	}
	f.Fuzz(func(t *testing.T, op uint8, s1, s2, s3 string, n1, n2 int64) {
		method, path, query, body := fieldOps[int(op)%len(fieldOps)](fz, s1, s2, s3, n1, n2)
		fz.send(t, method, path, query, []byte(body))
	})
}
