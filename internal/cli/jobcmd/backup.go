package jobcmd

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/cofferbackup/coffer/internal/cli"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// DefaultIAMRoleARN is sent as StartBackupJob's IamRoleArn, which the AWS
// API requires; coffer does not use IAM roles.
const DefaultIAMRoleARN = "arn:aws:iam::000000000000:role/service-role/AWSBackupDefaultServiceRole"

func init() {
	cli.RegisterGroup("backup", "start, list, describe, stop and report backup jobs", []cli.Subcommand{
		{Name: "start", Args: "--vault V (--bucket B | --resource-arn ARN) [--wait]", Summary: "start an on-demand backup job", Run: backupStart},
		{Name: "list", Args: "[--state S] [--vault V] [--resource-arn ARN] [--created-after T] [--created-before T]", Summary: "list backup jobs", Run: backupList},
		{Name: "describe", Args: "JOB-ID", Summary: "show a backup job", Run: backupDescribe},
		{Name: "stop", Args: "JOB-ID", Summary: "stop a running backup job", Run: backupStop},
		{Name: "report", Args: "JOB-ID", Summary: "list the failed versions of a backup job (kept in the vault)", Run: reportCommand("backup", "/backup-jobs/")},
	})
}

// backupStartFlags are the flags of `backup start`.
type backupStartFlags struct {
	vault, bucket, resourceARN, iamRole, token string
	deleteAfterDays                            int64
	noACLs, noTags, wait                       bool
	readTagsEvery                              int
	chunking                                   string
	tags                                       cli.TagFlag
}

// input builds the StartBackupJob request from the flags.
func (f *backupStartFlags) input() (*backup.StartBackupJobInput, error) {
	if f.vault == "" {
		return nil, cli.UsageError("--vault is required")
	}
	arn := f.resourceARN
	switch {
	case f.bucket != "" && arn != "":
		return nil, cli.UsageError("give --bucket or --resource-arn, not both")
	case f.bucket != "":
		arn = "arn:aws:s3:::" + f.bucket
	case arn == "":
		return nil, cli.UsageError("--bucket or --resource-arn is required")
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
		return nil, cli.UsageError("--delete-after-days must not be negative")
	}
	if f.deleteAfterDays > 0 {
		in.Lifecycle = &types.Lifecycle{DeleteAfterDays: aws.Int64(f.deleteAfterDays)}
	}
	if f.readTagsEvery < 0 {
		return nil, cli.UsageError("--read-tags-every must not be negative")
	}
	if f.chunking != "" && f.chunking != vocab.ChunkingFixed && f.chunking != vocab.ChunkingContentDefined {
		return nil, cli.UsageError("--chunking must be " + vocab.ChunkingFixed + " or " + vocab.ChunkingContentDefined)
	}
	if f.noACLs || f.noTags || f.readTagsEvery > 0 || f.chunking != "" {
		in.BackupOptions = map[string]string{}
		if f.noACLs {
			in.BackupOptions["BackupACLs"] = "disabled"
		}
		if f.noTags {
			in.BackupOptions["BackupObjectTags"] = "disabled"
		}
		if f.readTagsEvery > 0 {
			in.BackupOptions["ReadTagsEvery"] = strconv.Itoa(f.readTagsEvery)
		}
		if f.chunking != "" {
			in.BackupOptions[vocab.OptChunking] = f.chunking
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
	fs.StringVar(&f.iamRole, "iam-role-arn", DefaultIAMRoleARN, "IAM role `ARN` (required by the API, unused by coffer)")
	fs.StringVar(&f.token, "idempotency-token", "", "`TOKEN` making retries of the same start a no-op")
	fs.Int64Var(&f.deleteAfterDays, "delete-after-days", 0, "delete the recovery point after `N` days (0: keep)")
	fs.BoolVar(&f.noACLs, "no-acls", false, "do not back up object ACLs")
	fs.BoolVar(&f.noTags, "no-tags", false, "do not back up object tags")
	fs.IntVar(&f.readTagsEvery, "read-tags-every", 0, "read tags and ACLs of versions unchanged since the last backup only every `N`th backup (BackupOptions ReadTagsEvery; default every backup)")
	fs.StringVar(&f.chunking, "chunking", "", "`MODE` of cutting new versions' data: "+vocab.ChunkingFixed+" (4 MiB chunks, faster, no dedup of shifted bytes) or "+
		vocab.ChunkingContentDefined+" (BackupOptions Chunking; default content-defined)")
	fs.BoolVar(&f.wait, "wait", false, "wait until the job ends, showing progress")
	fs.Var(f.tags, "tag", "recovery point tag `KEY=VALUE` (repeatable)")
}

func backupStart(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "backup start", "--vault V (--bucket B | --resource-arn ARN) [FLAGS]", "")
	f := &backupStartFlags{tags: cli.TagFlag{}}
	f.define(c.FS)
	var in *backup.StartBackupJobInput
	c.Check = func() (err error) { in, err = f.input(); return err }
	return cli.StartJob(c, args, backupJobs, &f.wait, func(ctx context.Context, s *cli.Session) (*backup.StartBackupJobOutput, string, error) {
		out, err := s.Client.StartBackupJob(ctx, in)
		if err != nil {
			return nil, "", cli.WrapAPI("start backup of "+*in.ResourceArn, err)
		}
		return out, aws.ToString(out.BackupJobId), nil
	}, func(w io.Writer, out *backup.StartBackupJobOutput) error {
		fmt.Fprintf(w, "started backup job %s\n", cli.Cell(out.BackupJobId))
		return cli.Fields(w, "Recovery point", out.RecoveryPointArn, "Created", out.CreationDate)
	})
}

func backupList(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "backup list", "[FLAGS]", "")
	state := c.FS.String("state", "", "only jobs in `STATE` (CREATED, PENDING, RUNNING, ABORTING, ABORTED, COMPLETED, FAILED, EXPIRED, PARTIAL)")
	vault := c.FS.String("vault", "", "only jobs into vault `NAME`")
	arn := c.FS.String("resource-arn", "", "only jobs of the resource `ARN`")
	after, before := cli.CreatedFlags(c.FS, "jobs")
	return cli.ListAndShow(c, args, "BackupJobs", func(ctx context.Context, s *cli.Session) ([]types.BackupJob, error) {
		in := &backup.ListBackupJobsInput{ByState: types.BackupJobState(*state), ByCreatedAfter: after.Time, ByCreatedBefore: before.Time, MaxResults: cli.PageSize()}
		if *vault != "" {
			in.ByBackupVaultName = vault
		}
		if *arn != "" {
			in.ByResourceArn = arn
		}
		return cli.ListAll(ctx, backup.NewListBackupJobsPaginator(s.Client, in),
			func(o *backup.ListBackupJobsOutput) []types.BackupJob { return o.BackupJobs }, "list backup jobs")
	}, []string{"JOB ID", "STATE", "VAULT", "RESOURCE", "CREATED", "DONE", "SIZE"}, func(j types.BackupJob) []any {
		return []any{j.BackupJobId, j.State, j.BackupVaultName, j.ResourceArn, j.CreationDate,
			cli.PercentCell(cli.PercentOf(j.PercentDone, j.BytesTransferred, j.BackupSizeInBytes)), cli.HumanBytes(j.BackupSizeInBytes)}
	})
}

func backupDescribe(ctx context.Context, args []string) error {
	return backupJobs.Show(cli.NewClientCmd(ctx, "backup describe", "JOB-ID", "one JOB-ID"), args)
}

func backupStop(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "backup stop", "JOB-ID", "one JOB-ID")
	return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, id string) (*backup.StopBackupJobOutput, error) {
		out, err := s.Client.StopBackupJob(ctx, &backup.StopBackupJobInput{BackupJobId: aws.String(id)})
		return out, cli.WrapAPI("stop backup job "+id, err)
	}, cli.Say[*backup.StopBackupJobOutput]("stop requested for backup job %s"))
}

// backupJobs are backup jobs for --wait and `backup describe`.
var backupJobs = cli.JobKind[*backup.DescribeBackupJobOutput]{
	Name: "backup job",
	Fetch: func(ctx context.Context, c *backup.Client, id string) (*backup.DescribeBackupJobOutput, error) {
		return c.DescribeBackupJob(ctx, &backup.DescribeBackupJobInput{BackupJobId: aws.String(id)})
	},
	Progress: func(out *backup.DescribeBackupJobOutput) cli.JobProgress {
		return cli.JobProgress{
			State:      string(out.State),
			Percent:    cli.PercentOf(out.PercentDone, out.BytesTransferred, out.BackupSizeInBytes),
			Done:       cli.OrMinus(out.BytesTransferred),
			Total:      cli.OrMinus(out.BackupSizeInBytes),
			ETAMinutes: -1,
			Message:    aws.ToString(out.StatusMessage),
		}
	},
	Print: printBackupJob,
}

func printBackupJob(w io.Writer, out *backup.DescribeBackupJobOutput) error {
	return cli.Fields(w,
		"Job ID", out.BackupJobId,
		"State", out.State,
		"Status message", out.StatusMessage,
		"Vault", out.BackupVaultName,
		"Resource", out.ResourceArn,
		"Resource type", out.ResourceType,
		"Recovery point", out.RecoveryPointArn,
		"Percent done", cli.PercentCell(cli.PercentOf(out.PercentDone, out.BytesTransferred, out.BackupSizeInBytes)),
		"Bytes transferred", cli.HumanBytes(out.BytesTransferred),
		"Backup size", cli.HumanBytes(out.BackupSizeInBytes),
		"Backup options", cli.OptionsCell(out.BackupOptions),
		"Created", out.CreationDate,
		"Completed", out.CompletionDate,
	)
}
