package main

import (
	"context"
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
	register(command{name: "backup", summary: "start, list, describe and stop backup jobs", run: runBackup})
}

var backupCommands = []subcommand{
	{name: "start", args: "--vault V (--bucket B | --resource-arn ARN) [--wait]", summary: "start an on-demand backup job", run: backupStart},
	{name: "list", args: "[--state S] [--vault V] [--resource-arn ARN] [--created-after T] [--created-before T]", summary: "list backup jobs", run: backupList},
	{name: "describe", args: "JOB-ID", summary: "show a backup job", run: backupDescribe},
	{name: "stop", args: "JOB-ID", summary: "stop a running backup job", run: backupStop},
}

func runBackup(ctx context.Context, args []string) error {
	return runGroup(ctx, "backup", backupCommands, args)
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

func backupStart(ctx context.Context, args []string) error {
	fs, g := newFlagSet(ctx, "backup start", "--vault V (--bucket B | --resource-arn ARN) [FLAGS]")
	f := &backupStartFlags{tags: tagFlag{}}
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
	if _, err := wantArgs(fs, args, 0, ""); err != nil {
		return err
	}
	in, err := f.input()
	if err != nil {
		return err
	}
	s, err := g.open(ctx)
	if err != nil {
		return err
	}
	out, err := s.client.StartBackupJob(ctx, in)
	if err != nil {
		return wrapAPI("start backup of "+*in.ResourceArn, err)
	}
	if f.wait {
		return waitBackup(ctx, s, aws.ToString(out.BackupJobId))
	}
	return s.emit(out, func(w io.Writer) error {
		fmt.Fprintf(w, "started backup job %s\n", cell(out.BackupJobId))
		return fields(w, "Recovery point", out.RecoveryPointArn, "Created", out.CreationDate)
	})
}

// describeBackupProgress fetches a backup job and its progress.
func describeBackupProgress(ctx context.Context, s *session, id string) (*backup.DescribeBackupJobOutput, jobProgress, error) {
	out, err := s.client.DescribeBackupJob(ctx, &backup.DescribeBackupJobInput{BackupJobId: aws.String(id)})
	if err != nil {
		return nil, jobProgress{}, wrapAPI("describe backup job "+id, err)
	}
	return out, jobProgress{
		State:      string(out.State),
		Percent:    percentOf(out.PercentDone, out.BytesTransferred, out.BackupSizeInBytes),
		Done:       orMinus(out.BytesTransferred),
		Total:      orMinus(out.BackupSizeInBytes),
		ETAMinutes: -1,
		Message:    aws.ToString(out.StatusMessage),
	}, nil
}

// waitBackup waits for a backup job, then prints it like `backup describe`.
func waitBackup(ctx context.Context, s *session, id string) error {
	var last *backup.DescribeBackupJobOutput
	_, err := waitJob(ctx, s.progressWriter(), "backup job "+id, func(ctx context.Context) (jobProgress, error) {
		out, p, err := describeBackupProgress(ctx, s, id)
		if out != nil {
			last = out
		}
		return p, err
	})
	if last != nil {
		if perr := s.emit(last, func(w io.Writer) error { return printBackupJob(w, last) }); perr != nil && err == nil {
			err = perr
		}
	}
	return err
}

// progressWriter is where --wait draws progress: stdout, unless stdout
// carries JSON.
func (s *session) progressWriter() io.Writer {
	if s.opts.JSON {
		return s.errOut
	}
	return s.out
}

// backupListOutput is the JSON shape of `backup list`: all pages together.
type backupListOutput struct {
	BackupJobs []types.BackupJob
}

func backupList(ctx context.Context, args []string) error {
	fs, g := newFlagSet(ctx, "backup list", "[FLAGS]")
	state := fs.String("state", "", "only jobs in `STATE` (CREATED, PENDING, RUNNING, ABORTING, ABORTED, COMPLETED, FAILED, EXPIRED, PARTIAL)")
	vault := fs.String("vault", "", "only jobs into vault `NAME`")
	arn := fs.String("resource-arn", "", "only jobs of the resource `ARN`")
	var after, before timeFlag
	fs.Var(&after, "created-after", "only jobs created after `TIME` (RFC 3339)")
	fs.Var(&before, "created-before", "only jobs created before `TIME` (RFC 3339)")
	if _, err := wantArgs(fs, args, 0, ""); err != nil {
		return err
	}
	s, err := g.open(ctx)
	if err != nil {
		return err
	}
	in := &backup.ListBackupJobsInput{ByState: types.BackupJobState(*state), ByCreatedAfter: after.t, ByCreatedBefore: before.t}
	if *vault != "" {
		in.ByBackupVaultName = vault
	}
	if *arn != "" {
		in.ByResourceArn = arn
	}
	all := backupListOutput{BackupJobs: []types.BackupJob{}}
	p := backup.NewListBackupJobsPaginator(s.client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return wrapAPI("list backup jobs", err)
		}
		all.BackupJobs = append(all.BackupJobs, page.BackupJobs...)
	}
	return s.emit(all, func(w io.Writer) error {
		t := newTable(w, "JOB ID", "STATE", "VAULT", "RESOURCE", "CREATED", "DONE", "SIZE")
		for _, j := range all.BackupJobs {
			t.row(j.BackupJobId, j.State, j.BackupVaultName, j.ResourceArn, j.CreationDate,
				percentCell(percentOf(j.PercentDone, j.BytesTransferred, j.BackupSizeInBytes)), humanBytes(j.BackupSizeInBytes))
		}
		return t.flush()
	})
}

func percentCell(p float64) string {
	if p < 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", p)
}

func backupDescribe(ctx context.Context, args []string) error {
	fs, g := newFlagSet(ctx, "backup describe", "JOB-ID")
	pos, err := wantArgs(fs, args, 1, "one JOB-ID")
	if err != nil {
		return err
	}
	s, err := g.open(ctx)
	if err != nil {
		return err
	}
	out, _, err := describeBackupProgress(ctx, s, pos[0])
	if err != nil {
		return err
	}
	return s.emit(out, func(w io.Writer) error { return printBackupJob(w, out) })
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
		"Percent done", out.PercentDone,
		"Bytes transferred", humanBytes(out.BytesTransferred),
		"Backup size", humanBytes(out.BackupSizeInBytes),
		"Backup options", optionsCell(out.BackupOptions),
		"Created", out.CreationDate,
		"Completed", out.CompletionDate,
	)
}

func optionsCell(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	return tagFlag(m).String()
}

func backupStop(ctx context.Context, args []string) error {
	fs, g := newFlagSet(ctx, "backup stop", "JOB-ID")
	pos, err := wantArgs(fs, args, 1, "one JOB-ID")
	if err != nil {
		return err
	}
	s, err := g.open(ctx)
	if err != nil {
		return err
	}
	out, err := s.client.StopBackupJob(ctx, &backup.StopBackupJobInput{BackupJobId: aws.String(pos[0])})
	if err != nil {
		return wrapAPI("stop backup job "+pos[0], err)
	}
	return s.emit(out, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "stop requested for backup job %s\n", pos[0])
		return err
	})
}
