package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
)

// defaultIAMRoleARN is sent as StartBackupJob's IamRoleArn, which the AWS
// API requires; coffer does not use IAM roles.
const defaultIAMRoleARN = "arn:aws:iam::000000000000:role/service-role/AWSBackupDefaultServiceRole"

func init() {
	registerGroup("backup", "start, list, describe, stop and report backup jobs", []subcommand{
		{name: "start", args: "--vault V (--bucket B | --resource-arn ARN) [--wait]", summary: "start an on-demand backup job", run: backupStart},
		{name: "list", args: "[--state S] [--vault V] [--resource-arn ARN] [--created-after T] [--created-before T]", summary: "list backup jobs", run: backupList},
		{name: "describe", args: "JOB-ID", summary: "show a backup job", run: backupDescribe},
		{name: "stop", args: "JOB-ID", summary: "stop a running backup job", run: backupStop},
		{name: "report", args: "JOB-ID", summary: "list the failed versions of a backup job (kept in the vault)", run: reportCommand("backup", "/backup-jobs/")},
	})
}

// backupStartFlags are the flags of `backup start`.
type backupStartFlags struct {
	vault, bucket, resourceARN, iamRole, token string
	deleteAfterDays                            int64
	noACLs, noTags, wait                       bool
	tags                                       tagFlag
}

// input builds the StartBackupJob request from the flags.
func (f *backupStartFlags) input() (*backup.StartBackupJobInput, error) {
	if f.vault == "" {
		return nil, usageError("--vault is required")
	}
	arn := f.resourceARN
	switch {
	case f.bucket != "" && arn != "":
		return nil, usageError("give --bucket or --resource-arn, not both")
	case f.bucket != "":
		arn = "arn:aws:s3:::" + f.bucket
	case arn == "":
		return nil, usageError("--bucket or --resource-arn is required")
	}
	in := &backup.StartBackupJobInput{
		BackupVaultName: aws.String(f.vault),
		ResourceArn:     aws.String(arn),
		IamRoleArn:      aws.String(f.iamRole),
	}
	if f.token != "" {
		in.IdempotencyToken = aws.String(f.token)
	}
	if f.deleteAfterDays < 0 {
		return nil, usageError("--delete-after-days must not be negative")
	}
	if f.deleteAfterDays > 0 {
		in.Lifecycle = &types.Lifecycle{DeleteAfterDays: aws.Int64(f.deleteAfterDays)}
	}
	if f.noACLs || f.noTags {
		in.BackupOptions = map[string]string{}
		if f.noACLs {
			in.BackupOptions["BackupACLs"] = "disabled"
		}
		if f.noTags {
			in.BackupOptions["BackupObjectTags"] = "disabled"
		}
	}
	if len(f.tags) > 0 {
		in.RecoveryPointTags = f.tags
	}
	return in, nil
}

// define adds the flags to fs.
func (f *backupStartFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.vault, "vault", "", "target backup vault `NAME`")
	fs.StringVar(&f.bucket, "bucket", "", "bucket `NAME` to back up (resource arn:aws:s3:::NAME)")
	fs.StringVar(&f.resourceARN, "resource-arn", "", "`ARN` of the resource to back up")
	fs.StringVar(&f.iamRole, "iam-role-arn", defaultIAMRoleARN, "IAM role `ARN` (required by the API, unused by coffer)")
	fs.StringVar(&f.token, "idempotency-token", "", "`TOKEN` making retries of the same start a no-op")
	fs.Int64Var(&f.deleteAfterDays, "delete-after-days", 0, "delete the recovery point after `N` days (0: keep)")
	fs.BoolVar(&f.noACLs, "no-acls", false, "do not back up object ACLs")
	fs.BoolVar(&f.noTags, "no-tags", false, "do not back up object tags")
	fs.BoolVar(&f.wait, "wait", false, "wait until the job ends, showing progress")
	fs.Var(f.tags, "tag", "recovery point tag `KEY=VALUE` (repeatable)")
}

func backupStart(ctx context.Context, args []string) error {
	c := newClientCmd(ctx, "backup start", "--vault V (--bucket B | --resource-arn ARN) [FLAGS]", "")
	f := &backupStartFlags{tags: tagFlag{}}
	f.define(c.fs)
	var in *backup.StartBackupJobInput
	c.check = func() (err error) { in, err = f.input(); return err }
	return startJob(c, args, backupJobs, &f.wait, func(ctx context.Context, s *session) (*backup.StartBackupJobOutput, string, error) {
		out, err := s.client.StartBackupJob(ctx, in)
		if err != nil {
			return nil, "", wrapAPI("start backup of "+*in.ResourceArn, err)
		}
		return out, aws.ToString(out.BackupJobId), nil
	}, func(w io.Writer, out *backup.StartBackupJobOutput) error {
		fmt.Fprintf(w, "started backup job %s\n", cell(out.BackupJobId))
		return fields(w, "Recovery point", out.RecoveryPointArn, "Created", out.CreationDate)
	})
}

func backupList(ctx context.Context, args []string) error {
	c := newClientCmd(ctx, "backup list", "[FLAGS]", "")
	state := c.fs.String("state", "", "only jobs in `STATE` (CREATED, PENDING, RUNNING, ABORTING, ABORTED, COMPLETED, FAILED, EXPIRED, PARTIAL)")
	vault := c.fs.String("vault", "", "only jobs into vault `NAME`")
	arn := c.fs.String("resource-arn", "", "only jobs of the resource `ARN`")
	after, before := createdFlags(c.fs, "jobs")
	return listAndShow(c, args, "BackupJobs", func(ctx context.Context, s *session) ([]types.BackupJob, error) {
		in := &backup.ListBackupJobsInput{ByState: types.BackupJobState(*state), ByCreatedAfter: after.t, ByCreatedBefore: before.t, MaxResults: pageSize()}
		if *vault != "" {
			in.ByBackupVaultName = vault
		}
		if *arn != "" {
			in.ByResourceArn = arn
		}
		return listAll(ctx, backup.NewListBackupJobsPaginator(s.client, in),
			func(o *backup.ListBackupJobsOutput) []types.BackupJob { return o.BackupJobs }, "list backup jobs")
	}, []string{"JOB ID", "STATE", "VAULT", "RESOURCE", "CREATED", "DONE", "SIZE"}, func(j types.BackupJob) []any {
		return []any{j.BackupJobId, j.State, j.BackupVaultName, j.ResourceArn, j.CreationDate,
			percentCell(percentOf(j.PercentDone, j.BytesTransferred, j.BackupSizeInBytes)), humanBytes(j.BackupSizeInBytes)}
	})
}

func backupDescribe(ctx context.Context, args []string) error {
	return backupJobs.show(newClientCmd(ctx, "backup describe", "JOB-ID", "one JOB-ID"), args)
}

func backupStop(ctx context.Context, args []string) error {
	c := newClientCmd(ctx, "backup stop", "JOB-ID", "one JOB-ID")
	return callAndShow(c, args, func(ctx context.Context, s *session, id string) (*backup.StopBackupJobOutput, error) {
		out, err := s.client.StopBackupJob(ctx, &backup.StopBackupJobInput{BackupJobId: aws.String(id)})
		return out, wrapAPI("stop backup job "+id, err)
	}, say[*backup.StopBackupJobOutput]("stop requested for backup job %s"))
}

// backupJobs are backup jobs for --wait and `backup describe`.
var backupJobs = jobKind[*backup.DescribeBackupJobOutput]{
	name: "backup job",
	fetch: func(ctx context.Context, c *backup.Client, id string) (*backup.DescribeBackupJobOutput, error) {
		return c.DescribeBackupJob(ctx, &backup.DescribeBackupJobInput{BackupJobId: aws.String(id)})
	},
	progress: func(out *backup.DescribeBackupJobOutput) jobProgress {
		return jobProgress{
			State:      string(out.State),
			Percent:    percentOf(out.PercentDone, out.BytesTransferred, out.BackupSizeInBytes),
			Done:       orMinus(out.BytesTransferred),
			Total:      orMinus(out.BackupSizeInBytes),
			ETAMinutes: -1,
			Message:    aws.ToString(out.StatusMessage),
		}
	},
	print: printBackupJob,
}

func printBackupJob(w io.Writer, out *backup.DescribeBackupJobOutput) error {
	return fields(w,
		"Job ID", out.BackupJobId,
		"State", out.State,
		"Status message", out.StatusMessage,
		"Vault", out.BackupVaultName,
		"Resource", out.ResourceArn,
		"Resource type", out.ResourceType,
		"Recovery point", out.RecoveryPointArn,
		"Percent done", percentCell(percentOf(out.PercentDone, out.BytesTransferred, out.BackupSizeInBytes)),
		"Bytes transferred", humanBytes(out.BytesTransferred),
		"Backup size", humanBytes(out.BackupSizeInBytes),
		"Backup options", optionsCell(out.BackupOptions),
		"Created", out.CreationDate,
		"Completed", out.CompletionDate,
	)
}
