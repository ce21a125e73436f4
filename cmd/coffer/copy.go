package main

import (
	"context"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
)

func init() {
	registerGroup("copy", "start, list and describe copy jobs (a recovery point copied into another vault)", []subcommand{
		{name: "start", args: "--recovery-point ARN --source-vault V --destination-vault NAME|ARN [--delete-after-days N] [--wait]", summary: "copy a recovery point into another vault", run: copyStart},
		{name: "list", args: "[--state S] [--destination-vault-arn ARN] [--resource-arn ARN]", summary: "list copy jobs", run: copyList},
		{name: "describe", args: "JOB-ID", summary: "show a copy job", run: copyDescribe},
	})
}

func copyStart(ctx context.Context, args []string) error {
	c := newClientCmd(ctx, "copy start", "--recovery-point ARN --source-vault V --destination-vault NAME|ARN [FLAGS]", "")
	rp := c.fs.String("recovery-point", "", "recovery point `ARN` to copy")
	src := c.fs.String("source-vault", "", "the recovery point's backup vault `NAME`")
	dst := c.fs.String("destination-vault", "", "destination backup vault `NAME` or ARN")
	days := c.fs.Int64("delete-after-days", 0, "delete the copy after `N` days (default: keep)")
	iamRole := c.fs.String("iam-role-arn", "", "IAM role `ARN` to send (unused by coffer)")
	token := c.fs.String("idempotency-token", "", "`TOKEN` making retries of the same start a no-op")
	wait := c.fs.Bool("wait", false, "wait until the job ends, showing progress")
	c.check = func() error {
		switch {
		case *rp == "":
			return usageError("--recovery-point is required")
		case *src == "":
			return usageError("--source-vault is required")
		case *dst == "":
			return usageError("--destination-vault is required")
		case *days < 0:
			return usageError("--delete-after-days must not be negative")
		}
		return nil
	}
	return startJob(c, args, copyJobs, wait, func(ctx context.Context, s *session) (*backup.StartCopyJobOutput, string, error) {
		arn := *dst
		if !strings.HasPrefix(arn, "arn:") {
			v, err := s.client.DescribeBackupVault(ctx, &backup.DescribeBackupVaultInput{BackupVaultName: aws.String(arn)})
			if err != nil {
				return nil, "", wrapAPI("describe destination vault "+arn, err)
			}
			arn = aws.ToString(v.BackupVaultArn)
		}
		in := &backup.StartCopyJobInput{RecoveryPointArn: aws.String(*rp), SourceBackupVaultName: aws.String(*src),
			DestinationBackupVaultArn: aws.String(arn), IamRoleArn: aws.String(*iamRole)}
		if *iamRole == "" {
			in.IamRoleArn = aws.String("arn:aws:iam::000000000000:role/coffer")
		}
		if *token != "" {
			in.IdempotencyToken = aws.String(*token)
		}
		if *days > 0 {
			in.Lifecycle = &types.Lifecycle{DeleteAfterDays: aws.Int64(*days)}
		}
		out, err := s.client.StartCopyJob(ctx, in)
		if err != nil {
			return nil, "", wrapAPI("start copy of "+*rp, err)
		}
		return out, aws.ToString(out.CopyJobId), nil
	}, func(w io.Writer, out *backup.StartCopyJobOutput) error {
		_, err := io.WriteString(w, "started copy job "+aws.ToString(out.CopyJobId)+"\n")
		return err
	})
}

func copyList(ctx context.Context, args []string) error {
	c := newClientCmd(ctx, "copy list", "[FLAGS]", "")
	state := c.fs.String("state", "", "only jobs in `STATE` (CREATED, RUNNING, COMPLETED, FAILED)")
	dest := c.fs.String("destination-vault-arn", "", "only jobs into the vault `ARN`")
	resource := c.fs.String("resource-arn", "", "only jobs of the bucket `ARN`")
	after, before := createdFlags(c.fs, "jobs")
	return listAndShow(c, args, "CopyJobs", func(ctx context.Context, s *session) ([]types.CopyJob, error) {
		in := &backup.ListCopyJobsInput{ByState: types.CopyJobState(*state), ByCreatedAfter: after.t, ByCreatedBefore: before.t, MaxResults: pageSize()}
		if *dest != "" {
			in.ByDestinationVaultArn = dest
		}
		if *resource != "" {
			in.ByResourceArn = resource
		}
		return listAll(ctx, backup.NewListCopyJobsPaginator(s.client, in),
			func(o *backup.ListCopyJobsOutput) []types.CopyJob { return o.CopyJobs }, "list copy jobs")
	}, []string{"JOB ID", "STATE", "SOURCE RECOVERY POINT", "DESTINATION VAULT", "CREATED"}, func(j types.CopyJob) []any {
		return []any{j.CopyJobId, j.State, j.SourceRecoveryPointArn, j.DestinationBackupVaultArn, j.CreationDate}
	})
}

func copyDescribe(ctx context.Context, args []string) error {
	return copyJobs.show(newClientCmd(ctx, "copy describe", "JOB-ID", "one JOB-ID"), args)
}

// copyJobs are copy jobs for --wait and `copy describe`.
var copyJobs = jobKind[*backup.DescribeCopyJobOutput]{
	name: "copy job",
	fetch: func(ctx context.Context, c *backup.Client, id string) (*backup.DescribeCopyJobOutput, error) {
		return c.DescribeCopyJob(ctx, &backup.DescribeCopyJobInput{CopyJobId: aws.String(id)})
	},
	progress: func(out *backup.DescribeCopyJobOutput) jobProgress {
		j := out.CopyJob
		if j == nil {
			return jobProgress{Percent: -1, Done: -1, Total: -1, ETAMinutes: -1}
		}
		return jobProgress{State: string(j.State), Percent: -1, Done: -1, Total: orMinus(j.BackupSizeInBytes), ETAMinutes: -1,
			Message: aws.ToString(j.StatusMessage)}
	},
	print: func(w io.Writer, out *backup.DescribeCopyJobOutput) error {
		j := out.CopyJob
		if j == nil {
			return nil
		}
		return fields(w,
			"Job ID", j.CopyJobId,
			"State", j.State,
			"Status message", j.StatusMessage,
			"Source vault", j.SourceBackupVaultArn,
			"Source recovery point", j.SourceRecoveryPointArn,
			"Destination vault", j.DestinationBackupVaultArn,
			"Destination recovery point", j.DestinationRecoveryPointArn,
			"Resource", j.ResourceArn,
			"Backup size", humanBytes(j.BackupSizeInBytes),
			"Created by backup job", j.CreatedByBackupJobId,
			"Created", j.CreationDate,
			"Completed", j.CompletionDate,
		)
	},
}
