package jobcmd

import (
	"context"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/cofferbackup/coffer/internal/cli"
)

func init() {
	cli.RegisterGroup("copy", "start, list and describe copy jobs (a recovery point copied into another vault)", []cli.Subcommand{
		{Name: "start", Args: "--recovery-point ARN --source-vault V --destination-vault NAME|ARN [--delete-after-days N] [--wait]", Summary: "copy a recovery point into another vault", Run: copyStart},
		{Name: "list", Args: "[--state S] [--destination-vault-arn ARN] [--resource-arn ARN]", Summary: "list copy jobs", Run: copyList},
		{Name: "describe", Args: "JOB-ID", Summary: "show a copy job", Run: copyDescribe},
	})
}

func copyStart(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "copy start", "--recovery-point ARN --source-vault V --destination-vault NAME|ARN [FLAGS]", "")
	rp := c.FS.String("recovery-point", "", "recovery point `ARN` to copy")
	src := c.FS.String("source-vault", "", "the recovery point's backup vault `NAME`")
	dst := c.FS.String("destination-vault", "", "destination backup vault `NAME` or ARN")
	days := c.FS.Int64("delete-after-days", 0, "delete the copy after `N` days (default: keep)")
	iamRole := c.FS.String("iam-role-arn", "", "IAM role `ARN` to send (unused by coffer)")
	token := c.FS.String("idempotency-token", "", "`TOKEN` making retries of the same start a no-op")
	wait := c.FS.Bool("wait", false, "wait until the job ends, showing progress")
	c.Check = func() error {
		switch {
		case *rp == "":
			return cli.UsageError("--recovery-point is required")
		case *src == "":
			return cli.UsageError("--source-vault is required")
		case *dst == "":
			return cli.UsageError("--destination-vault is required")
		case *days < 0:
			return cli.UsageError("--delete-after-days must not be negative")
		}
		return nil
	}
	return cli.StartJob(c, args, copyJobs, wait, func(ctx context.Context, s *cli.Session) (*backup.StartCopyJobOutput, string, error) {
		arn := *dst
		if !strings.HasPrefix(arn, "arn:") {
			v, err := s.Client.DescribeBackupVault(ctx, &backup.DescribeBackupVaultInput{BackupVaultName: aws.String(arn)})
			if err != nil {
				return nil, "", cli.WrapAPI("describe destination vault "+arn, err)
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
		out, err := s.Client.StartCopyJob(ctx, in)
		if err != nil {
			return nil, "", cli.WrapAPI("start copy of "+*rp, err)
		}
		return out, aws.ToString(out.CopyJobId), nil
	}, func(w io.Writer, out *backup.StartCopyJobOutput) error {
		_, err := io.WriteString(w, "started copy job "+aws.ToString(out.CopyJobId)+"\n")
		return err
	})
}

func copyList(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "copy list", "[FLAGS]", "")
	state := c.FS.String("state", "", "only jobs in `STATE` (CREATED, RUNNING, COMPLETED, FAILED)")
	dest := c.FS.String("destination-vault-arn", "", "only jobs into the vault `ARN`")
	resource := c.FS.String("resource-arn", "", "only jobs of the bucket `ARN`")
	after, before := cli.CreatedFlags(c.FS, "jobs")
	return cli.ListAndShow(c, args, "CopyJobs", func(ctx context.Context, s *cli.Session) ([]types.CopyJob, error) {
		in := &backup.ListCopyJobsInput{ByState: types.CopyJobState(*state), ByCreatedAfter: after.Time, ByCreatedBefore: before.Time, MaxResults: cli.PageSize()}
		if *dest != "" {
			in.ByDestinationVaultArn = dest
		}
		if *resource != "" {
			in.ByResourceArn = resource
		}
		return cli.ListAll(ctx, backup.NewListCopyJobsPaginator(s.Client, in),
			func(o *backup.ListCopyJobsOutput) []types.CopyJob { return o.CopyJobs }, "list copy jobs")
	}, []string{"JOB ID", "STATE", "SOURCE RECOVERY POINT", "DESTINATION VAULT", "CREATED"}, func(j types.CopyJob) []any {
		return []any{j.CopyJobId, j.State, j.SourceRecoveryPointArn, j.DestinationBackupVaultArn, j.CreationDate}
	})
}

func copyDescribe(ctx context.Context, args []string) error {
	return copyJobs.Show(cli.NewClientCmd(ctx, "copy describe", "JOB-ID", "one JOB-ID"), args)
}

// copyJobs are copy jobs for --wait and `copy describe`.
var copyJobs = cli.JobKind[*backup.DescribeCopyJobOutput]{
	Name: "copy job",
	Fetch: func(ctx context.Context, c *backup.Client, id string) (*backup.DescribeCopyJobOutput, error) {
		return c.DescribeCopyJob(ctx, &backup.DescribeCopyJobInput{CopyJobId: aws.String(id)})
	},
	Progress: func(out *backup.DescribeCopyJobOutput) cli.JobProgress {
		j := out.CopyJob
		if j == nil {
			return cli.JobProgress{Percent: -1, Done: -1, Total: -1, ETAMinutes: -1}
		}
		return cli.JobProgress{State: string(j.State), Percent: -1, Done: -1, Total: cli.OrMinus(j.BackupSizeInBytes), ETAMinutes: -1,
			Message: aws.ToString(j.StatusMessage)}
	},
	Print: func(w io.Writer, out *backup.DescribeCopyJobOutput) error {
		j := out.CopyJob
		if j == nil {
			return nil
		}
		return cli.Fields(w,
			"Job ID", j.CopyJobId,
			"State", j.State,
			"Status message", j.StatusMessage,
			"Source vault", j.SourceBackupVaultArn,
			"Source recovery point", j.SourceRecoveryPointArn,
			"Destination vault", j.DestinationBackupVaultArn,
			"Destination recovery point", j.DestinationRecoveryPointArn,
			"Resource", j.ResourceArn,
			"Backup size", cli.HumanBytes(j.BackupSizeInBytes),
			"Created by backup job", j.CreatedByBackupJobId,
			"Created", j.CreationDate,
			"Completed", j.CompletionDate,
		)
	},
}
