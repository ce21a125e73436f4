package api_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/aws/smithy-go"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/tags"

	"github.com/cofferbackup/coffer/internal/auth"
	"github.com/cofferbackup/coffer/internal/coffertest"
	"github.com/cofferbackup/coffer/internal/testserver"
)

func TestMain(m *testing.M) { testserver.Main(m) }

var ctx = context.Background()

// apiCode returns the AWS error code of err, "" if none.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestAuthentication(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{})
	// Unsigned request.
	resp, err := http.Get(e.Endpoint + "/backup-vaults")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	const unsigned = "MissingAuthenticationTokenException"
	if resp.StatusCode != 403 || resp.Header.Get("X-Amzn-Errortype") != unsigned || !bytes.Contains(body, []byte(`"__type":"`+unsigned+`"`)) ||
		resp.Header.Get("X-Amzn-Requestid") == "" {
		t.Fatalf("unsigned: status %d type %q body %s", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), body)
	}
	// Each failure gets the code AWS answers for it, through the SDK.
	for _, tt := range []struct {
		name  string
		creds auth.Credentials
		code  string
	}{
		{"wrong secret", auth.Credentials{AccessKeyID: e.Creds.AccessKeyID, SecretAccessKey: "not-the-secret"}, "InvalidSignatureException"},
		{"unknown key", auth.Credentials{AccessKeyID: "CFUNKNOWNKEY000000000", SecretAccessKey: e.Creds.SecretAccessKey}, "UnrecognizedClientException"},
	} {
		_, err := coffertest.NewClient(e.Endpoint, tt.creds).ListBackupVaults(ctx, &backup.ListBackupVaultsInput{})
		if apiCode(err) != tt.code {
			t.Errorf("%s: got %v, want %s", tt.name, err, tt.code)
		}
	}
	if _, err := e.Client.ListBackupVaults(ctx, &backup.ListBackupVaultsInput{}); err != nil {
		t.Fatalf("signed request refused: %v", err)
	}
}

func TestVaults(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{})
	c := e.Client
	for _, name := range []string{"vault-b", "vault-a", "vault_c"} {
		out, err := c.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String(name),
			BackupVaultTags: map[string]string{"team": "storage"}, CreatorRequestId: aws.String("req-" + name)})
		if err != nil {
			t.Fatalf("CreateBackupVault %s: %v", name, err)
		}
		if aws.ToString(out.BackupVaultName) != name || !strings.HasSuffix(aws.ToString(out.BackupVaultArn), ":backup-vault:"+name) || out.CreationDate == nil {
			t.Fatalf("CreateBackupVault output %+v", out)
		}
	}
	// Same CreatorRequestId is idempotent; another one is a conflict.
	if _, err := c.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("vault-a"), CreatorRequestId: aws.String("req-vault-a")}); err != nil {
		t.Fatalf("idempotent create: %v", err)
	}
	tests := []struct {
		name string
		call func() error
		code string
	}{
		{"duplicate", func() error {
			_, err := c.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("vault-a")})
			return err
		}, "AlreadyExistsException"},
		{"bad name", func() error {
			_, err := c.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("bad name!")})
			return err
		}, "InvalidParameterValueException"},
		{"describe missing", func() error {
			_, err := c.DescribeBackupVault(ctx, &backup.DescribeBackupVaultInput{BackupVaultName: aws.String("nope")})
			var rnf *types.ResourceNotFoundException
			if err != nil && !errors.As(err, &rnf) {
				return fmt.Errorf("not typed ResourceNotFoundException: %w", err)
			}
			return err
		}, "ResourceNotFoundException"},
		{"delete missing", func() error {
			_, err := c.DeleteBackupVault(ctx, &backup.DeleteBackupVaultInput{BackupVaultName: aws.String("nope")})
			return err
		}, "ResourceNotFoundException"},
		{"bad maxResults", func() error {
			_, err := c.ListBackupVaults(ctx, &backup.ListBackupVaultsInput{MaxResults: aws.Int32(5000)})
			return err
		}, "InvalidParameterValueException"},
		{"bad nextToken", func() error {
			_, err := c.ListBackupVaults(ctx, &backup.ListBackupVaultsInput{NextToken: aws.String("garbage!")})
			return err
		}, "InvalidParameterValueException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := apiCode(tt.call()); got != tt.code {
				t.Fatalf("got %q, want %q", got, tt.code)
			}
		})
	}
	d, err := c.DescribeBackupVault(ctx, &backup.DescribeBackupVaultInput{BackupVaultName: aws.String("vault-b")})
	if err != nil || aws.ToString(d.BackupVaultName) != "vault-b" || d.NumberOfRecoveryPoints != 0 ||
		aws.ToString(d.CreatorRequestId) != "req-vault-b" || d.VaultState != types.VaultStateAvailable {
		t.Fatalf("DescribeBackupVault: %+v, %v", d, err)
	}
	// Pagination walks every vault once, in name order.
	var names []string
	p := backup.NewListBackupVaultsPaginator(c, &backup.ListBackupVaultsInput{MaxResults: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, v := range out.BackupVaultList {
			names = append(names, aws.ToString(v.BackupVaultName))
		}
	}
	if strings.Join(names, ",") != "vault-a,vault-b,vault_c" || pages != 2 {
		t.Fatalf("listed %v in %d pages", names, pages)
	}
	if _, err := c.DeleteBackupVault(ctx, &backup.DeleteBackupVaultInput{BackupVaultName: aws.String("vault-b")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DescribeBackupVault(ctx, &backup.DescribeBackupVaultInput{BackupVaultName: aws.String("vault-b")}); apiCode(err) != "ResourceNotFoundException" {
		t.Fatalf("deleted vault still described: %v", err)
	}
}

func TestTrailingSlashAndSupportedTypes(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{})
	out, err := e.Client.GetSupportedResourceTypes(ctx, &backup.GetSupportedResourceTypesInput{})
	if err != nil || len(out.ResourceTypes) != 1 || out.ResourceTypes[0] != "S3" {
		t.Fatalf("GetSupportedResourceTypes: %v %v", out, err)
	}
	// The SDK never sends a trailing slash; a hand-made, signed request does.
	c := coffertest.NewClient(e.Endpoint+"/", e.Creds)
	if _, err := c.ListBackupVaults(ctx, &backup.ListBackupVaultsInput{}); err != nil {
		t.Fatalf("with base endpoint ending in /: %v", err)
	}
	req, _ := http.NewRequest("GET", e.Endpoint+"/supported-resource-types/", nil)
	if err := coffertest.Sign(req, e.Creds, nil); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"S3"`)) {
		t.Fatalf("trailing slash: %d %s", resp.StatusCode, body)
	}
}

// putObjects fills bucket with a few objects carrying metadata and tags.
func putObjects(t *testing.T, mc *minio.Client, bucket string, n int) map[string][]byte {
	t.Helper()
	want := map[string][]byte{}
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("dir/obj %03d+ü.txt", i)
		data := bytes.Repeat([]byte(fmt.Sprintf("object %d ", i)), 100*(i+1))
		tg, _ := tags.NewTags(map[string]string{"idx": fmt.Sprint(i), "kind": "test"}, true)
		_, err := mc.PutObject(ctx, bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{
			ContentType: "text/plain", CacheControl: "max-age=60", UserMetadata: map[string]string{"owner": "team-" + fmt.Sprint(i)},
			UserTags: tg.ToMap(),
		})
		if err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
		want[key] = data
	}
	return want
}

// checkObjects compares the current objects of bucket with want, with
// their metadata and tags.
func checkObjects(t *testing.T, mc *minio.Client, bucket string, want map[string][]byte) {
	t.Helper()
	got := 0
	for o := range mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		got++
		data, ok := want[o.Key]
		if !ok {
			t.Errorf("unexpected key %q", o.Key)
			continue
		}
		obj, err := mc.GetObject(ctx, bucket, o.Key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(obj)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := obj.Stat()
		obj.Close()
		if !bytes.Equal(b, data) {
			t.Errorf("%q: bytes differ", o.Key)
		}
		if st.ContentType != "text/plain" || st.Metadata.Get("Cache-Control") != "max-age=60" || !strings.HasPrefix(st.UserMetadata["Owner"], "team-") {
			t.Errorf("%q: metadata %v / %v", o.Key, st.Metadata, st.UserMetadata)
		}
		tg, err := mc.GetObjectTagging(ctx, bucket, o.Key, minio.GetObjectTaggingOptions{})
		if err != nil || tg.ToMap()["kind"] != "test" || tg.ToMap()["idx"] == "" {
			t.Errorf("%q: tags %v %v", o.Key, tg, err)
		}
	}
	if got != len(want) {
		t.Fatalf("restored %d objects, want %d", got, len(want))
	}
}

func TestBackupAndRestoreThroughSDK(t *testing.T) {
	for _, kind := range testserver.Kinds() {
		t.Run(kind, func(t *testing.T) { testBackupAndRestore(t, kind) })
	}
}

func testBackupAndRestore(t *testing.T, kind string) {
	e := coffertest.Start(t, coffertest.Options{S3Kind: kind})
	c, mc := e.Client, e.S3.Client(t)
	bucket := e.S3.NewBucket(t, true)
	want := putObjects(t, mc, bucket, 12)
	if _, err := c.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("main")}); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-time.Minute)
	in := &backup.StartBackupJobInput{BackupVaultName: aws.String("main"), ResourceArn: aws.String("arn:aws:s3:::" + bucket),
		IamRoleArn: aws.String("arn:aws:iam::000000000000:role/ignored"), IdempotencyToken: aws.String("tok-" + bucket),
		RecoveryPointTags: map[string]string{"k": "v"}}
	job, err := c.StartBackupJob(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.StartBackupJob(ctx, in)
	if err != nil || aws.ToString(again.BackupJobId) != aws.ToString(job.BackupJobId) {
		t.Fatalf("IdempotencyToken not honoured: %v %v", again, err)
	}
	done := e.WaitBackup(t, aws.ToString(job.BackupJobId))
	if done.State != types.BackupJobStateCompleted || aws.ToString(done.RecoveryPointArn) != aws.ToString(job.RecoveryPointArn) {
		t.Fatalf("backup job: %s %q rp %q", done.State, aws.ToString(done.StatusMessage), aws.ToString(done.RecoveryPointArn))
	}
	var total int64
	for _, d := range want {
		total += int64(len(d))
	}
	if aws.ToInt64(done.BackupSizeInBytes) != total || aws.ToInt64(done.BytesTransferred) != total || done.CompletionDate == nil {
		t.Fatalf("backup sizes: size %d transferred %d want %d", aws.ToInt64(done.BackupSizeInBytes), aws.ToInt64(done.BytesTransferred), total)
	}
	checkJobListing(t, c, bucket, aws.ToString(job.BackupJobId), start)
	rpARN := aws.ToString(job.RecoveryPointArn)
	rps, err := c.ListRecoveryPointsByBackupVault(ctx, &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: aws.String("main"),
		ByResourceArn: aws.String("arn:aws:s3:::" + bucket)})
	if err != nil || len(rps.RecoveryPoints) != 1 || aws.ToString(rps.RecoveryPoints[0].RecoveryPointArn) != rpARN {
		t.Fatalf("ListRecoveryPointsByBackupVault: %+v %v", rps, err)
	}
	rp, err := c.DescribeRecoveryPoint(ctx, &backup.DescribeRecoveryPointInput{BackupVaultName: aws.String("main"), RecoveryPointArn: aws.String(rpARN)})
	if err != nil || rp.Status != types.RecoveryPointStatusCompleted || aws.ToInt64(rp.BackupSizeInBytes) != total || aws.ToString(rp.ResourceArn) != "arn:aws:s3:::"+bucket {
		t.Fatalf("DescribeRecoveryPoint: %+v %v", rp, err)
	}
	// Restore into a new bucket and compare everything.
	dest := testserver.UniqueBucketName("restored")
	rj, err := c.StartRestoreJob(ctx, &backup.StartRestoreJobInput{RecoveryPointArn: aws.String(rpARN), ResourceType: aws.String("S3"),
		IamRoleArn: aws.String("arn:aws:iam::000000000000:role/ignored"),
		Metadata:   map[string]string{"DestinationBucketName": dest, "NewBucket": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	rdone := e.WaitRestore(t, aws.ToString(rj.RestoreJobId))
	if rdone.Status != types.RestoreJobStatusCompleted || aws.ToString(rdone.CreatedResourceArn) != "arn:aws:s3:::"+dest {
		t.Fatalf("restore: %s %q", rdone.Status, aws.ToString(rdone.StatusMessage))
	}
	checkObjects(t, mc, dest, want)
	rl, err := c.ListRestoreJobs(ctx, &backup.ListRestoreJobsInput{ByStatus: types.RestoreJobStatusCompleted})
	if err != nil || len(rl.RestoreJobs) != 1 || aws.ToString(rl.RestoreJobs[0].RestoreJobId) != aws.ToString(rj.RestoreJobId) {
		t.Fatalf("ListRestoreJobs: %+v %v", rl, err)
	}
	// Restoring into the now existing bucket without Overwrite skips every key.
	rj2, err := c.StartRestoreJob(ctx, &backup.StartRestoreJobInput{RecoveryPointArn: aws.String(rpARN),
		Metadata: map[string]string{"DestinationBucketName": dest}})
	if err != nil {
		t.Fatal(err)
	}
	if r2 := e.WaitRestore(t, aws.ToString(rj2.RestoreJobId)); r2.Status != types.RestoreJobStatusCompleted ||
		!strings.Contains(aws.ToString(r2.StatusMessage), "skipped 12 keys") {
		t.Fatalf("restore without overwrite: %s %q", r2.Status, aws.ToString(r2.StatusMessage))
	}
	checkRestoreErrors(t, c, rpARN, dest)
	// A vault with recovery points cannot be deleted; after the last one goes, it can.
	if _, err := c.DeleteBackupVault(ctx, &backup.DeleteBackupVaultInput{BackupVaultName: aws.String("main")}); apiCode(err) != "InvalidRequestException" {
		t.Fatalf("delete non-empty vault: %v", err)
	}
	if _, err := c.DeleteRecoveryPoint(ctx, &backup.DeleteRecoveryPointInput{BackupVaultName: aws.String("main"), RecoveryPointArn: aws.String(rpARN)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DescribeRecoveryPoint(ctx, &backup.DescribeRecoveryPointInput{BackupVaultName: aws.String("main"), RecoveryPointArn: aws.String(rpARN)}); apiCode(err) != "ResourceNotFoundException" {
		t.Fatalf("deleted recovery point still there: %v", err)
	}
	if _, err := e.Service.MaintainVault(ctx, "main"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteBackupVault(ctx, &backup.DeleteBackupVaultInput{BackupVaultName: aws.String("main")}); err != nil {
		t.Fatalf("delete emptied vault: %v", err)
	}
}

func checkJobListing(t *testing.T, c *backup.Client, bucket, jobID string, start time.Time) {
	t.Helper()
	arn := "arn:aws:s3:::" + bucket
	tests := []struct {
		name string
		in   backup.ListBackupJobsInput
		want int
	}{
		{"by resource", backup.ListBackupJobsInput{ByResourceArn: aws.String(arn)}, 1},
		{"by state", backup.ListBackupJobsInput{ByResourceArn: aws.String(arn), ByState: types.BackupJobStateCompleted}, 1},
		{"other state", backup.ListBackupJobsInput{ByResourceArn: aws.String(arn), ByState: types.BackupJobStateFailed}, 0},
		{"by vault", backup.ListBackupJobsInput{ByBackupVaultName: aws.String("main")}, 1},
		{"other vault", backup.ListBackupJobsInput{ByBackupVaultName: aws.String("other")}, 0},
		{"created after", backup.ListBackupJobsInput{ByResourceArn: aws.String(arn), ByCreatedAfter: aws.Time(start)}, 1},
		{"created before", backup.ListBackupJobsInput{ByResourceArn: aws.String(arn), ByCreatedBefore: aws.Time(start)}, 0},
		{"type", backup.ListBackupJobsInput{ByResourceArn: aws.String(arn), ByResourceType: aws.String("S3")}, 1},
	}
	for _, tt := range tests {
		out, err := c.ListBackupJobs(ctx, &tt.in)
		if err != nil || len(out.BackupJobs) != tt.want {
			t.Errorf("ListBackupJobs %s: %d jobs, want %d (%v)", tt.name, len(out.BackupJobs), tt.want, err)
			continue
		}
		if tt.want == 1 && aws.ToString(out.BackupJobs[0].BackupJobId) != jobID {
			t.Errorf("ListBackupJobs %s: wrong job", tt.name)
		}
	}
}

func checkRestoreErrors(t *testing.T, c *backup.Client, rpARN, existing string) {
	t.Helper()
	tests := []struct {
		name string
		in   backup.StartRestoreJobInput
		code string
	}{
		{"no destination", backup.StartRestoreJobInput{RecoveryPointArn: aws.String(rpARN), Metadata: map[string]string{}}, "MissingParameterValueException"},
		{"unknown rp", backup.StartRestoreJobInput{RecoveryPointArn: aws.String(rpARN + "x"), Metadata: map[string]string{"DestinationBucketName": "abc"}}, "ResourceNotFoundException"},
		{"new bucket exists", backup.StartRestoreJobInput{RecoveryPointArn: aws.String(rpARN), Metadata: map[string]string{"DestinationBucketName": existing, "NewBucket": "true"}}, "InvalidParameterValueException"},
		{"missing bucket", backup.StartRestoreJobInput{RecoveryPointArn: aws.String(rpARN), Metadata: map[string]string{"DestinationBucketName": "no-such-bucket-here"}}, "InvalidParameterValueException"},
		{"bad versions", backup.StartRestoreJobInput{RecoveryPointArn: aws.String(rpARN), Metadata: map[string]string{"DestinationBucketName": existing, "RestoreLatestVersionsUpTo": "zero"}}, "InvalidParameterValueException"},
		{"bad items", backup.StartRestoreJobInput{RecoveryPointArn: aws.String(rpARN), Metadata: map[string]string{"DestinationBucketName": existing, "ItemsToRestore": "s3://x"}}, "InvalidParameterValueException"},
		{"other bucket item", backup.StartRestoreJobInput{RecoveryPointArn: aws.String(rpARN), Metadata: map[string]string{"DestinationBucketName": existing, "ItemsToRestore": `["s3://other-bucket/a"]`}}, "InvalidParameterValueException"},
	}
	for _, tt := range tests {
		if _, err := c.StartRestoreJob(ctx, &tt.in); apiCode(err) != tt.code {
			t.Errorf("StartRestoreJob %s: got %v, want %s", tt.name, err, tt.code)
		}
	}
}

func TestUnversionedBucketAndJobPagination(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{})
	c, mc := e.Client, e.S3.Client(t)
	bucket := e.S3.NewBucket(t, false)
	want := coffertest.FillBucket(t, mc, bucket, "u/", 5, 700)
	if _, err := c.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("pages")}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := 0; i < 3; i++ {
		out, err := c.StartBackupJob(ctx, &backup.StartBackupJobInput{BackupVaultName: aws.String("pages"),
			ResourceArn: aws.String("arn:aws:s3:::" + bucket), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x"),
			BackupOptions: map[string]string{"BackupACLs": "disabled"}})
		if err != nil {
			t.Fatal(err)
		}
		j := e.WaitBackup(t, aws.ToString(out.BackupJobId))
		if j.State != types.BackupJobStateCompleted || !strings.Contains(aws.ToString(j.StatusMessage), "never been versioned") {
			t.Fatalf("unversioned backup %d: %s %q", i, j.State, aws.ToString(j.StatusMessage))
		}
		if j.BackupOptions["BackupACLs"] != "disabled" {
			t.Fatalf("BackupOptions not echoed: %v", j.BackupOptions)
		}
		ids = append(ids, aws.ToString(out.BackupJobId))
	}
	// Unchanged unversioned objects are not read again.
	last, _ := c.DescribeBackupJob(ctx, &backup.DescribeBackupJobInput{BackupJobId: aws.String(ids[2])})
	if aws.ToInt64(last.BytesTransferred) != 0 {
		t.Fatalf("third backup of an unchanged bucket transferred %d bytes", aws.ToInt64(last.BytesTransferred))
	}
	var seen []string
	p := backup.NewListBackupJobsPaginator(c, &backup.ListBackupJobsInput{ByResourceArn: aws.String("arn:aws:s3:::" + bucket), MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.BackupJobs) > 1 {
			t.Fatalf("page of %d jobs with MaxResults 1", len(out.BackupJobs))
		}
		for _, j := range out.BackupJobs {
			seen = append(seen, aws.ToString(j.BackupJobId))
		}
	}
	if fmt.Sprint(seen) != fmt.Sprint([]string{ids[2], ids[1], ids[0]}) {
		t.Fatalf("paginated jobs %v, want newest first %v", seen, ids)
	}
	dest := coffertest.RestoreToNewBucket(t, c, aws.ToString(last.RecoveryPointArn))
	coffertest.CheckBucket(t, mc, dest, want)
}

func TestBadRequests(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{})
	c := e.Client
	if _, err := c.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("v1")}); err != nil {
		t.Fatal(err)
	}
	role := aws.String("arn:aws:iam::000000000000:role/x")
	tests := []struct {
		name string
		in   backup.StartBackupJobInput
		code string
	}{
		{"missing vault", backup.StartBackupJobInput{BackupVaultName: aws.String("nope"), ResourceArn: aws.String("arn:aws:s3:::abc"), IamRoleArn: role}, "ResourceNotFoundException"},
		{"not s3", backup.StartBackupJobInput{BackupVaultName: aws.String("v1"), ResourceArn: aws.String("arn:aws:ec2:::i-1"), IamRoleArn: role}, "InvalidParameterValueException"},
		{"bad bucket", backup.StartBackupJobInput{BackupVaultName: aws.String("v1"), ResourceArn: aws.String("arn:aws:s3:::Bad_Bucket"), IamRoleArn: role}, "InvalidParameterValueException"},
		{"bad option", backup.StartBackupJobInput{BackupVaultName: aws.String("v1"), ResourceArn: aws.String("arn:aws:s3:::abc"), IamRoleArn: role, BackupOptions: map[string]string{"BackupACLs": "maybe"}}, "InvalidParameterValueException"},
		{"unknown option", backup.StartBackupJobInput{BackupVaultName: aws.String("v1"), ResourceArn: aws.String("arn:aws:s3:::abc"), IamRoleArn: role, BackupOptions: map[string]string{"WindowsVSS": "enabled"}}, "InvalidParameterValueException"},
		{"read tags every zero", backup.StartBackupJobInput{BackupVaultName: aws.String("v1"), ResourceArn: aws.String("arn:aws:s3:::abc"), IamRoleArn: role, BackupOptions: map[string]string{"ReadTagsEvery": "0"}}, "InvalidParameterValueException"},
		{"bad chunking", backup.StartBackupJobInput{BackupVaultName: aws.String("v1"), ResourceArn: aws.String("arn:aws:s3:::abc"), IamRoleArn: role, BackupOptions: map[string]string{"Chunking": "FIXED-4M"}}, "InvalidParameterValueException"},
		{"zero retention", backup.StartBackupJobInput{BackupVaultName: aws.String("v1"), ResourceArn: aws.String("arn:aws:s3:::abc"), IamRoleArn: role, Lifecycle: &types.Lifecycle{DeleteAfterDays: aws.Int64(0)}}, "InvalidParameterValueException"},
		{"short window", backup.StartBackupJobInput{BackupVaultName: aws.String("v1"), ResourceArn: aws.String("arn:aws:s3:::abc"), IamRoleArn: role, StartWindowMinutes: aws.Int64(10)}, "InvalidParameterValueException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := c.StartBackupJob(ctx, &tt.in); apiCode(err) != tt.code {
				t.Fatalf("got %v, want %s", err, tt.code)
			}
		})
	}
	for name, call := range map[string]func() error{
		"describe job": func() error {
			_, err := c.DescribeBackupJob(ctx, &backup.DescribeBackupJobInput{BackupJobId: aws.String("nope")})
			return err
		},
		"stop job": func() error {
			_, err := c.StopBackupJob(ctx, &backup.StopBackupJobInput{BackupJobId: aws.String("nope")})
			return err
		},
		"describe restore": func() error {
			_, err := c.DescribeRestoreJob(ctx, &backup.DescribeRestoreJobInput{RestoreJobId: aws.String("nope")})
			return err
		},
		"describe rp": func() error {
			_, err := c.DescribeRecoveryPoint(ctx, &backup.DescribeRecoveryPointInput{BackupVaultName: aws.String("v1"), RecoveryPointArn: aws.String("arn:aws:backup:us-east-1:000000000000:recovery-point:x")})
			return err
		},
		"list rps of missing vault": func() error {
			_, err := c.ListRecoveryPointsByBackupVault(ctx, &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: aws.String("nope")})
			return err
		},
	} {
		if err := call(); apiCode(err) != "ResourceNotFoundException" {
			t.Errorf("%s: got %v, want ResourceNotFoundException", name, err)
		}
	}
	// Malformed JSON is the caller's fault (4xx), not the server's.
	req, _ := http.NewRequest("PUT", e.Endpoint+"/backup-jobs", strings.NewReader("{not json"))
	req.Header.Set("Content-Type", "application/json")
	if err := coffertest.Sign(req, e.Creds, []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-Errortype") != "SerializationException" {
		t.Fatalf("malformed JSON: %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"))
	}
}
