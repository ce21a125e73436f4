package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/cofferbackup/coffer/internal/coffertest"
)

// nTags returns n tags named prefix0..prefix(n-1).
func nTags(prefix string, n int) map[string]string {
	m := map[string]string{}
	for i := 0; i < n; i++ {
		m[fmt.Sprintf("%s%d", prefix, i)] = "v"
	}
	return m
}

// TestTagLimits: at most 50 tags per resource after the change (existing
// ones count), AWS's key and value rules, on vaults, plans and recovery
// points alike (RecoveryPointTags of StartBackupJob and of plan rules,
// TagResource on a recovery point).
func TestTagLimits(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{})
	c := e.Client
	vault, err := c.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("lim"), BackupVaultTags: nTags("old", 48)})
	if err != nil {
		t.Fatal(err)
	}
	bucket := e.S3.NewBucket(t, true)
	coffertest.FillBucket(t, e.S3.Client(t), bucket, "l/", 1, 10)
	startBackup := func(tags map[string]string) (*backup.StartBackupJobOutput, error) {
		return c.StartBackupJob(ctx, &backup.StartBackupJobInput{BackupVaultName: aws.String("lim"), ResourceArn: aws.String("arn:aws:s3:::" + bucket),
			IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x"), RecoveryPointTags: tags})
	}
	job, err := startBackup(nTags("rp", 49))
	if err != nil {
		t.Fatal(err)
	}
	if j := e.WaitBackup(t, aws.ToString(job.BackupJobId)); j.State != types.BackupJobStateCompleted {
		t.Fatalf("backup: %s", j.State)
	}
	vaultARN, rpARN := aws.ToString(vault.BackupVaultArn), aws.ToString(job.RecoveryPointArn)
	planWith := func(tags map[string]string) error {
		p := hourlyPlan("tags", "lim")
		p.Rules[0].RecoveryPointTags = tags
		_, err := c.CreateBackupPlan(ctx, &backup.CreateBackupPlanInput{BackupPlan: p})
		return err
	}
	long := func(n int) string { return strings.Repeat("é", n) } // characters, not bytes
	for _, tt := range []struct {
		name string
		call func() error
		code string // "" for success
	}{
		{"48 existing + 5 new", func() error { return tag(c, vaultARN, nTags("new", 5)) }, "LimitExceededException"},
		{"48 existing + 2 new", func() error { return tag(c, vaultARN, nTags("new", 2)) }, ""},
		{"50 existing, one replaced", func() error { return tag(c, vaultARN, map[string]string{"old0": "w"}) }, ""},
		{"50 existing + 1 new", func() error { return tag(c, vaultARN, nTags("more", 1)) }, "LimitExceededException"},
		{"recovery point: 49 + 2", func() error { return tag(c, rpARN, nTags("new", 2)) }, "LimitExceededException"},
		{"recovery point: 49 + 1", func() error { return tag(c, rpARN, nTags("new", 1)) }, ""},
		{"key of 128 characters", func() error { return tag(c, rpARN, map[string]string{long(128): "v"}) }, "LimitExceededException"},
		{"key of 129 characters", func() error { return tag(c, vaultARN, map[string]string{long(129): "v"}) }, "InvalidParameterValueException"},
		{"value of 257 characters", func() error { return tag(c, vaultARN, map[string]string{"old1": long(257)}) }, "InvalidParameterValueException"},
		{"key with '*'", func() error { return tag(c, vaultARN, map[string]string{"a*b": "v"}) }, "InvalidParameterValueException"},
		{"value with ','", func() error { return tag(c, vaultARN, map[string]string{"old1": "a,b"}) }, "InvalidParameterValueException"},
		{"allowed characters", func() error { return tag(c, vaultARN, map[string]string{"old1": "Zoé 42 _.:/=+-@"}) }, ""},
		{"CreateBackupVault with 51 tags", func() error {
			_, err := c.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("lim2"), BackupVaultTags: nTags("t", 51)})
			return err
		}, "LimitExceededException"},
		{"StartBackupJob with 51 tags", func() error { _, err := startBackup(nTags("t", 51)); return err }, "LimitExceededException"},
		{"StartBackupJob with key aws:x", func() error { _, err := startBackup(map[string]string{"aws:x": "v"}); return err }, "InvalidParameterValueException"},
		{"StartBackupJob with value '!'", func() error { _, err := startBackup(map[string]string{"k": "!"}); return err }, "InvalidParameterValueException"},
		{"plan rule with 51 tags", func() error { return planWith(nTags("t", 51)) }, "LimitExceededException"},
		{"plan rule with key 'a#'", func() error { return planWith(map[string]string{"a#": "v"}) }, "InvalidParameterValueException"},
	} {
		if err := tt.call(); apiCode(err) != tt.code {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.code)
		}
	}
	// Refused changes left nothing behind.
	for arn, want := range map[string]int{vaultARN: 50, rpARN: 50} {
		if got := listTags(t, c, arn); len(got) != want {
			t.Errorf("%s has %d tags, want %d", arn, len(got), want)
		}
	}
	if got := listTags(t, c, vaultARN); got["old0"] != "w" || got["old1"] != "Zoé 42 _.:/=+-@" {
		t.Errorf("vault tags: %v", got)
	}
	if _, err := c.DescribeBackupVault(ctx, &backup.DescribeBackupVaultInput{BackupVaultName: aws.String("lim2")}); apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("vault with 51 tags was created: %v", err)
	}
	if jobs, err := c.ListBackupJobs(ctx, &backup.ListBackupJobsInput{}); err != nil || len(jobs.BackupJobs) != 1 {
		t.Errorf("backup jobs: %d (%v), want only the first", len(jobs.BackupJobs), err)
	}
}

// TestTagsOfForeignARNs: an ARN of another partition, region or account
// names nothing coffer holds, even with the name of one of its vaults:
// TagResource, UntagResource and ListTags refuse it and store nothing.
func TestTagsOfForeignARNs(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{})
	c := e.Client
	vault, err := c.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("home"), BackupVaultTags: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := c.CreateBackupPlan(ctx, &backup.CreateBackupPlanInput{BackupPlan: hourlyPlan("home", "home")})
	if err != nil {
		t.Fatal(err)
	}
	own := map[string]string{"vault": aws.ToString(vault.BackupVaultArn), "plan": aws.ToString(plan.BackupPlanArn)}
	for what, arn := range own {
		for _, foreign := range []string{
			strings.Replace(arn, ":us-east-1:", ":eu-west-1:", 1),
			strings.Replace(arn, ":000000000000:", ":111122223333:", 1),
			strings.Replace(arn, "arn:aws:", "arn:aws-cn:", 1),
		} {
			if foreign == arn {
				t.Fatalf("%s ARN %s has not the expected shape", what, arn)
			}
			calls := map[string]func() error{
				"TagResource": func() error { return tag(c, foreign, map[string]string{"stolen": "x"}) },
				"UntagResource": func() error {
					_, err := c.UntagResource(ctx, &backup.UntagResourceInput{ResourceArn: aws.String(foreign), TagKeyList: []string{"k"}})
					return err
				},
				"ListTags": func() error {
					_, err := c.ListTags(ctx, &backup.ListTagsInput{ResourceArn: aws.String(foreign)})
					return err
				},
			}
			for op, call := range calls {
				if err := call(); apiCode(err) != "InvalidParameterValueException" {
					t.Errorf("%s of %s: %v, want InvalidParameterValueException", op, foreign, err)
				}
			}
			if got, err := e.Service.Catalog().Tags(ctx, foreign); err != nil || len(got) != 0 {
				t.Errorf("tags stored under %s: %v (%v)", foreign, got, err)
			}
		}
	}
	if got := listTags(t, c, own["vault"]); fmt.Sprint(got) != "map[k:v]" {
		t.Errorf("the vault's own tags changed: %v", got)
	}
}

func tag(c *backup.Client, arn string, tags map[string]string) error {
	_, err := c.TagResource(ctx, &backup.TagResourceInput{ResourceArn: aws.String(arn), Tags: tags})
	return err
}

func listTags(t *testing.T, c *backup.Client, arn string) map[string]string {
	t.Helper()
	out, err := c.ListTags(ctx, &backup.ListTagsInput{ResourceArn: aws.String(arn)})
	if err != nil {
		t.Fatalf("ListTags %s: %v", arn, err)
	}
	return out.Tags
}
