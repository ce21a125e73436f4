package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/minio/minio-go/v7"

	"github.com/cofferbackup/coffer/internal/coffertest"
)

// waitCopy waits for a copy job to end.
func waitCopy(t *testing.T, c *backup.Client, id string) *types.CopyJob {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		out, err := c.DescribeCopyJob(ctx, &backup.DescribeCopyJobInput{CopyJobId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		if s := out.CopyJob.State; s == types.CopyJobStateCompleted || s == types.CopyJobStateFailed {
			return out.CopyJob
		}
		if time.Now().After(deadline) {
			t.Fatalf("copy job %s still %s", id, out.CopyJob.State)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func startCopy(t *testing.T, c *backup.Client, rp, srcVault, dstARN string, days int64) string {
	t.Helper()
	in := &backup.StartCopyJobInput{RecoveryPointArn: aws.String(rp), SourceBackupVaultName: aws.String(srcVault),
		DestinationBackupVaultArn: aws.String(dstARN), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x")}
	if days > 0 {
		in.Lifecycle = &types.Lifecycle{DeleteAfterDays: aws.Int64(days)}
	}
	out, err := c.StartCopyJob(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.CopyJobId)
}

// copyBytesRead is coffer's BytesTransferred of a copy job: the bytes it
// read from the source vault.
func copyBytesRead(t *testing.T, e *coffertest.Env, id string) int64 {
	t.Helper()
	status, body := extension(t, e, http.MethodGet, "/copy-jobs/"+id, nil)
	var out struct {
		CopyJob struct{ BytesTransferred int64 }
	}
	if err := json.Unmarshal(body, &out); status != http.StatusOK || err != nil {
		t.Fatalf("describe copy job: %d %s", status, body)
	}
	return out.CopyJob.BytesTransferred
}

// TestCopyJobs: through the SDK, a copy of a disk vault's recovery point
// into an S3-backed vault on another connection restores byte for byte; a second copy after a
// 1% change reads only the changed version; a copy into a locked vault
// with a retention outside its bounds fails with a message; ListCopyJobs
// filters and pages.
func TestCopyJobs(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{})
	c, mc := e.Client, e.S3.Client(t)
	if _, err := c.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("disk")}); err != nil {
		t.Fatal(err)
	}
	// The destination vault lives in a bucket of another named connection.
	if status, body := extension(t, e, http.MethodPut, "/connections/offsite", map[string]any{"Endpoint": e.S3.Endpoint,
		"AccessKeyId": e.S3.AccessKey, "SecretAccessKey": e.S3.SecretKey}); status != http.StatusOK {
		t.Fatalf("create connection: %d %s", status, body)
	}
	vaultBucket := e.S3.NewBucket(t, false)
	if status, body := extension(t, e, http.MethodPut, "/backup-vaults/remote", map[string]any{"StorageLocation": "s3://offsite/" + vaultBucket}); status != http.StatusOK {
		t.Fatalf("create S3 vault: %d %s", status, body)
	}
	remote, err := c.DescribeBackupVault(ctx, &backup.DescribeBackupVaultInput{BackupVaultName: aws.String("remote")})
	if err != nil {
		t.Fatal(err)
	}
	src := e.S3.NewBucket(t, true)
	const size = 2000
	want := coffertest.FillBucket(t, mc, src, "k/", 100, size)
	rp1 := backupOn(t, e, "disk", "arn:aws:s3:::"+src)

	id1 := startCopy(t, c, rp1, "disk", aws.ToString(remote.BackupVaultArn), 30)
	j1 := waitCopy(t, c, id1)
	if j1.State != types.CopyJobStateCompleted || aws.ToString(j1.SourceRecoveryPointArn) != rp1 || aws.ToString(j1.DestinationRecoveryPointArn) == "" ||
		j1.DestinationRecoveryPointLifecycle == nil || aws.ToInt64(j1.DestinationRecoveryPointLifecycle.DeleteAfterDays) != 30 {
		t.Fatalf("first copy: %+v %q", j1, aws.ToString(j1.StatusMessage))
	}
	if n := copyBytesRead(t, e, id1); n != 100*size {
		t.Fatalf("first copy read %d bytes, want %d", n, 100*size)
	}
	copy1 := aws.ToString(j1.DestinationRecoveryPointArn)
	rp, err := c.DescribeRecoveryPoint(ctx, &backup.DescribeRecoveryPointInput{BackupVaultName: aws.String("remote"), RecoveryPointArn: aws.String(copy1)})
	if err != nil || rp.CalculatedLifecycle == nil || rp.CalculatedLifecycle.DeleteAt == nil ||
		aws.ToString(rp.SourceBackupVaultArn) != aws.ToString(j1.SourceBackupVaultArn) || !strings.HasSuffix(aws.ToString(rp.SourceBackupVaultArn), ":backup-vault:disk") {
		t.Fatalf("the copy in the destination vault: %+v %v", rp, err)
	}
	coffertest.CheckBucket(t, mc, coffertest.RestoreToNewBucket(t, c, copy1), want)

	// 1% change, a new backup, a second copy: one version read.
	changed := bytes.Repeat([]byte("changed!"), size/8)
	if _, err := mc.PutObject(ctx, src, "k/000042", bytes.NewReader(changed), size, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	want["k/000042"] = changed
	rp2 := backupOn(t, e, "disk", "arn:aws:s3:::"+src)
	id2 := startCopy(t, c, rp2, "disk", aws.ToString(remote.BackupVaultArn), 30)
	j2 := waitCopy(t, c, id2)
	if j2.State != types.CopyJobStateCompleted {
		t.Fatalf("second copy: %s %q", j2.State, aws.ToString(j2.StatusMessage))
	}
	if n := copyBytesRead(t, e, id2); n != size {
		t.Fatalf("the copy after a 1%% change read %d bytes, want %d (%s)", n, size, aws.ToString(j2.StatusMessage))
	}
	coffertest.CheckBucket(t, mc, coffertest.RestoreToNewBucket(t, c, aws.ToString(j2.DestinationRecoveryPointArn)), want)

	// A locked destination refuses a retention outside its bounds.
	locked, err := c.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("locked")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBackupVaultLockConfiguration(ctx, &backup.PutBackupVaultLockConfigurationInput{BackupVaultName: aws.String("locked"),
		MinRetentionDays: aws.Int64(7), MaxRetentionDays: aws.Int64(60)}); err != nil {
		t.Fatal(err)
	}
	id3 := startCopy(t, c, rp2, "disk", aws.ToString(locked.BackupVaultArn), 365)
	j3 := waitCopy(t, c, id3)
	if j3.State != types.CopyJobStateFailed || !strings.Contains(aws.ToString(j3.StatusMessage), "MaxRetentionDays 60") ||
		aws.ToString(j3.DestinationRecoveryPointArn) != "" {
		t.Fatalf("copy into a locked vault: %s %q", j3.State, aws.ToString(j3.StatusMessage))
	}
	pts, err := c.ListRecoveryPointsByBackupVault(ctx, &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: aws.String("locked")})
	if err != nil || len(pts.RecoveryPoints) != 0 {
		t.Fatalf("the refused copy left %d recovery points (%v)", len(pts.RecoveryPoints), err)
	}

	// ListCopyJobs: filters as the SDK sends them, and pages.
	for _, tt := range []struct {
		name string
		in   backup.ListCopyJobsInput
		want []string
	}{
		{"all", backup.ListCopyJobsInput{}, []string{id3, id2, id1}},
		{"completed", backup.ListCopyJobsInput{ByState: types.CopyJobStateCompleted}, []string{id2, id1}},
		{"failed", backup.ListCopyJobsInput{ByState: types.CopyJobStateFailed}, []string{id3}},
		{"destination", backup.ListCopyJobsInput{ByDestinationVaultArn: locked.BackupVaultArn}, []string{id3}},
		{"resource", backup.ListCopyJobsInput{ByResourceArn: aws.String("arn:aws:s3:::" + src)}, []string{id3, id2, id1}},
		{"other resource", backup.ListCopyJobsInput{ByResourceArn: aws.String("arn:aws:s3:::nothing-here")}, nil},
		{"source rp", backup.ListCopyJobsInput{BySourceRecoveryPointArn: aws.String(rp1)}, []string{id1}},
		{"created after", backup.ListCopyJobsInput{ByCreatedAfter: aws.Time(time.Now().Add(time.Hour))}, nil},
		{"created before", backup.ListCopyJobsInput{ByCreatedBefore: aws.Time(time.Now().Add(time.Hour))}, []string{id3, id2, id1}},
		{"complete after", backup.ListCopyJobsInput{ByCompleteAfter: aws.Time(time.Now().Add(-time.Hour)), ByState: types.CopyJobStateCompleted}, []string{id2, id1}},
	} {
		var got []string
		p := backup.NewListCopyJobsPaginator(c, &tt.in, func(o *backup.ListCopyJobsPaginatorOptions) { o.Limit = 1 })
		pages := 0
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			pages++
			for _, j := range out.CopyJobs {
				got = append(got, aws.ToString(j.CopyJobId))
			}
		}
		if strings.Join(got, ",") != strings.Join(tt.want, ",") || len(tt.want) > 1 && pages < len(tt.want) {
			t.Errorf("%s: %v in %d pages, want %v", tt.name, got, pages, tt.want)
		}
	}
	if _, err := c.ListCopyJobs(ctx, &backup.ListCopyJobsInput{ByState: "NOPE"}); apiCode(err) != "InvalidParameterValueException" {
		t.Errorf("ListCopyJobs with a bad state: %v", err)
	}
	if _, err := c.DescribeCopyJob(ctx, &backup.DescribeCopyJobInput{CopyJobId: aws.String("nope")}); apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("DescribeCopyJob of an unknown job: %v", err)
	}
	if _, err := c.StartCopyJob(ctx, &backup.StartCopyJobInput{RecoveryPointArn: aws.String(rp1), SourceBackupVaultName: aws.String("disk"),
		DestinationBackupVaultArn: aws.String("not-an-arn"), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x")}); apiCode(err) != "InvalidParameterValueException" {
		t.Errorf("StartCopyJob to a bad ARN: %v", err)
	}
}
