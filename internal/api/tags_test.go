package api_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/cofferbackup/coffer/internal/coffertest"
)

func TestTagsAndProtectedResources(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{})
	c, mc := e.Client, e.S3.Client(t)
	vault, err := c.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("tv"), BackupVaultTags: map[string]string{"team": "storage"}})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := c.CreateBackupPlan(ctx, &backup.CreateBackupPlanInput{BackupPlan: hourlyPlan("tagged", "tv"), BackupPlanTags: map[string]string{"cost": "a"}})
	if err != nil {
		t.Fatal(err)
	}
	bucket := e.S3.NewBucket(t, true)
	coffertest.FillBucket(t, mc, bucket, "t/", 3, 100)
	job, err := c.StartBackupJob(ctx, &backup.StartBackupJobInput{BackupVaultName: aws.String("tv"), ResourceArn: aws.String("arn:aws:s3:::" + bucket),
		IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x"), RecoveryPointTags: map[string]string{"rp": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	if j := e.WaitBackup(t, aws.ToString(job.BackupJobId)); j.State != types.BackupJobStateCompleted {
		t.Fatalf("backup: %s", j.State)
	}
	listTags := func(arn string) map[string]string {
		t.Helper()
		all := map[string]string{}
		p := backup.NewListTagsPaginator(c, &backup.ListTagsInput{ResourceArn: aws.String(arn), MaxResults: aws.Int32(1)})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("ListTags %s: %v", arn, err)
			}
			for k, v := range out.Tags {
				all[k] = v
			}
		}
		return all
	}
	for _, tt := range []struct{ arn, key, want string }{
		{aws.ToString(vault.BackupVaultArn), "team", "storage"},
		{aws.ToString(plan.BackupPlanArn), "cost", "a"},
		{aws.ToString(job.RecoveryPointArn), "rp", "1"},
	} {
		if _, err := c.TagResource(ctx, &backup.TagResourceInput{ResourceArn: aws.String(tt.arn), Tags: map[string]string{"extra": "x", "more": "y"}}); err != nil {
			t.Fatalf("TagResource %s: %v", tt.arn, err)
		}
		if _, err := c.UntagResource(ctx, &backup.UntagResourceInput{ResourceArn: aws.String(tt.arn), TagKeyList: []string{"more"}}); err != nil {
			t.Fatalf("UntagResource %s: %v", tt.arn, err)
		}
		got := listTags(tt.arn)
		if fmt.Sprint(got) != fmt.Sprint(map[string]string{tt.key: tt.want, "extra": "x"}) {
			t.Errorf("tags of %s: %v", tt.arn, got)
		}
	}
	if _, err := c.TagResource(ctx, &backup.TagResourceInput{ResourceArn: vault.BackupVaultArn, Tags: map[string]string{"aws:reserved": "x"}}); apiCode(err) != "InvalidParameterValueException" {
		t.Fatalf("aws: tag key accepted: %v", err)
	}
	if _, err := c.ListTags(ctx, &backup.ListTagsInput{ResourceArn: aws.String("arn:aws:backup:us-east-1:000000000000:backup-vault:nope")}); apiCode(err) != "ResourceNotFoundException" {
		t.Fatalf("tags of a missing vault: %v", err)
	}
	res, err := c.ListProtectedResources(ctx, &backup.ListProtectedResourcesInput{})
	if err != nil || len(res.Results) != 1 || aws.ToString(res.Results[0].ResourceArn) != "arn:aws:s3:::"+bucket ||
		aws.ToString(res.Results[0].LastRecoveryPointArn) != aws.ToString(job.RecoveryPointArn) {
		t.Fatalf("ListProtectedResources: %+v %v", res, err)
	}
	d, err := c.DescribeProtectedResource(ctx, &backup.DescribeProtectedResourceInput{ResourceArn: aws.String("arn:aws:s3:::" + bucket)})
	if err != nil || aws.ToString(d.LastBackupVaultArn) != aws.ToString(vault.BackupVaultArn) || aws.ToString(d.ResourceName) != bucket || d.LastBackupTime == nil {
		t.Fatalf("DescribeProtectedResource: %+v %v", d, err)
	}
	if _, err := c.DescribeProtectedResource(ctx, &backup.DescribeProtectedResourceInput{ResourceArn: aws.String("arn:aws:s3:::never-backed-up")}); apiCode(err) != "ResourceNotFoundException" {
		t.Fatalf("unprotected resource: %v", err)
	}
}
