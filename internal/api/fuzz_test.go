package api_test

import (
	"bytes"
	"encoding/json"
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
}

// FuzzAPI sends arbitrary bodies, path arguments and query strings to the
// operations above, signed with the root credentials, through the real
// HTTP API over a real service (catalog, vaults, MinIO). Whatever the
// input: no 5xx (a panic would be one), every error a 4xx carrying an
// AWS error code in the header and the body, every success valid JSON.
func FuzzAPI(f *testing.F) {
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
	planID := aws.ToString(p.BackupPlanId)
	for _, s := range fuzzSeeds(bucket, rp) {
		f.Add(s.op, s.arg, s.query, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, op uint8, arg, query string, body []byte) {
		o := fuzzOps[int(op)%len(fuzzOps)]
		path := strings.ReplaceAll(strings.ReplaceAll(o.path, "{arg}", url.PathEscape(arg)), "{plan}", planID)
		req, err := http.NewRequest(o.method, e.Endpoint+path+"?"+query, bytes.NewReader(body))
		if err != nil {
			return // not a request a client can send
		}
		req.Header.Set("Content-Type", "application/json")
		if err := coffertest.Sign(req, e.Creds, body); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", o.method, path, err)
		}
		out, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		checkFuzzAnswer(t, o.method+" "+path+"?"+query, body, resp, out)
	})
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
	}
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
