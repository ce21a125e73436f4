package jobcmd

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/cofferbackup/coffer/internal/cli"
)

func init() {
	cli.RegisterGroup("restore", "start, list, describe and report restore jobs", []cli.Subcommand{
		{Name: "start", Args: "--recovery-point ARN --dest-bucket B [--new-bucket] [--item s3://B/PREFIX]... [--wait]", Summary: "restore a recovery point into a bucket", Run: restoreStart},
		{Name: "preview", Args: "RP-ARN --bucket B [--new-bucket] [--item s3://B/PREFIX]... [--rollback]", Summary: "show what a restore or rollback would write, skip and delete-mark, writing nothing", Run: restorePreviewCmd},
		{Name: "list", Args: "[--status S]", Summary: "list restore jobs", Run: restoreList},
		{Name: "describe", Args: "JOB-ID", Summary: "show a restore job", Run: restoreDescribe},
		{Name: "report", Args: "JOB-ID", Summary: "list the items, skipped and failed keys of a restore job (kept in the vault)", Run: reportCommand("restore", "/restore-jobs/")},
	})
}

// restoreFlags are the flags of `restore start`.
type restoreFlags struct {
	recoveryPoint, destBucket, versions, iamRole, token string
	newBucket, overwrite, restoreACLs, wait, rollback   bool
	items                                               cli.StringList
	restoreTime                                         cli.TimeFlag
}

// metadata builds the S3 restore metadata: the AWS keys
// DestinationBucketName, NewBucket, ItemsToRestore (a JSON array of
// s3://bucket/prefix strings) and RestoreTime, and coffer's
// RestoreLatestVersionsUpTo, Overwrite and RestoreACLs.
func (f *restoreFlags) metadata() (map[string]string, error) {
	if f.destBucket == "" && !f.rollback {
		return nil, cli.UsageError("--dest-bucket is required (or --rollback)")
	}
	md := map[string]string{
		"DestinationBucketName": f.destBucket,
		"NewBucket":             strconv.FormatBool(f.newBucket),
		"Overwrite":             strconv.FormatBool(f.overwrite),
		"RestoreACLs":           strconv.FormatBool(f.restoreACLs),
	}
	if f.rollback {
		md["RestoreMode"] = "rollback"
		if f.destBucket == "" {
			delete(md, "DestinationBucketName") // the recovery point's own bucket
		}
	}
	if len(f.items) > 0 {
		for _, it := range f.items {
			b, _, _ := strings.Cut(strings.TrimPrefix(it, "s3://"), "/")
			if !strings.HasPrefix(it, "s3://") || b == "" {
				return nil, cli.UsageError("--item %q is not s3://BUCKET/PREFIX", it)
			}
		}
		data, err := json.Marshal([]string(f.items))
		if err != nil {
			return nil, fmt.Errorf("encode items to restore: %w", err)
		}
		md["ItemsToRestore"] = string(data)
	}
	if f.versions != "" {
		v := strings.ToLower(f.versions)
		if n, err := strconv.Atoi(v); v != "all" && (err != nil || n < 1) {
			return nil, cli.UsageError("--versions must be a positive number or \"all\", not %q", f.versions)
		}
		md["RestoreLatestVersionsUpTo"] = v
	}
	if f.restoreTime.Time != nil {
		md["RestoreTime"] = f.restoreTime.Time.UTC().Format(time.RFC3339)
	}
	return md, nil
}

// input builds the StartRestoreJob request.
func (f *restoreFlags) input() (*backup.StartRestoreJobInput, error) {
	if f.recoveryPoint == "" {
		return nil, cli.UsageError("--recovery-point is required")
	}
	md, err := f.metadata()
	if err != nil {
		return nil, err
	}
	in := &backup.StartRestoreJobInput{
		RecoveryPointArn: aws.String(f.recoveryPoint),
		ResourceType:     aws.String("S3"),
		Metadata:         md,
	}
	if f.iamRole != "" {
		in.IamRoleArn = aws.String(f.iamRole)
	}
	if f.token != "" {
		in.IdempotencyToken = aws.String(f.token)
	}
	return in, nil
}

// define adds the flags to fs.
func (f *restoreFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.recoveryPoint, "recovery-point", "", "recovery point `ARN` to restore")
	fs.StringVar(&f.destBucket, "dest-bucket", "", "destination bucket `NAME`")
	fs.BoolVar(&f.newBucket, "new-bucket", false, "create the destination bucket")
	fs.Var(&f.items, "item", "restore only `s3://BUCKET/PREFIX` (repeatable; default: everything)")
	fs.StringVar(&f.versions, "versions", "", "restore the latest `N` versions of each object, or \"all\" (default: latest only)")
	fs.BoolVar(&f.overwrite, "overwrite", false, "overwrite objects that exist in the destination")
	fs.BoolVar(&f.restoreACLs, "restore-acls", false, "restore object ACLs")
	fs.Var(&f.restoreTime, "restore-time", "point in `TIME` to restore (RFC 3339; continuous recovery points)")
	fs.BoolVar(&f.rollback, "rollback", false, "roll the recovery point's own (versioned) bucket back in place: --dest-bucket may be left out")
	fs.StringVar(&f.iamRole, "iam-role-arn", "", "IAM role `ARN` to send (unused by coffer)")
	fs.StringVar(&f.token, "idempotency-token", "", "`TOKEN` making retries of the same start a no-op")
	fs.BoolVar(&f.wait, "wait", false, "wait until the job ends, showing progress")
}

func restoreStart(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "restore start", "--recovery-point ARN --dest-bucket B [FLAGS]", "")
	f := &restoreFlags{}
	f.define(c.FS)
	var in *backup.StartRestoreJobInput
	c.Check = func() (err error) { in, err = f.input(); return err }
	return cli.StartJob(c, args, restoreJobs, &f.wait, func(ctx context.Context, s *cli.Session) (*backup.StartRestoreJobOutput, string, error) {
		out, err := s.Client.StartRestoreJob(ctx, in)
		if err != nil {
			return nil, "", cli.WrapAPI("start restore of "+f.recoveryPoint, err)
		}
		return out, aws.ToString(out.RestoreJobId), nil
	}, func(w io.Writer, out *backup.StartRestoreJobOutput) error {
		_, err := fmt.Fprintf(w, "started restore job %s\n", cli.Cell(out.RestoreJobId))
		return err
	})
}

func restoreList(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "restore list", "[FLAGS]", "")
	status := c.FS.String("status", "", "only jobs in `STATUS` (PENDING, RUNNING, COMPLETED, ABORTED, FAILED)")
	after, before := cli.CreatedFlags(c.FS, "jobs")
	return cli.ListAndShow(c, args, "RestoreJobs", func(ctx context.Context, s *cli.Session) ([]types.RestoreJobsListMember, error) {
		in := &backup.ListRestoreJobsInput{ByStatus: types.RestoreJobStatus(*status), ByCreatedAfter: after.Time, ByCreatedBefore: before.Time, MaxResults: cli.PageSize()}
		return cli.ListAll(ctx, backup.NewListRestoreJobsPaginator(s.Client, in),
			func(o *backup.ListRestoreJobsOutput) []types.RestoreJobsListMember { return o.RestoreJobs }, "list restore jobs")
	}, []string{"JOB ID", "STATUS", "RECOVERY POINT", "CREATED RESOURCE", "CREATED", "DONE"}, func(j types.RestoreJobsListMember) []any {
		return []any{j.RestoreJobId, j.Status, j.RecoveryPointArn, j.CreatedResourceArn, j.CreationDate, cli.PercentCell(cli.PercentOf(j.PercentDone, nil, nil))}
	})
}

func restoreDescribe(ctx context.Context, args []string) error {
	return restoreJobs.Show(cli.NewClientCmd(ctx, "restore describe", "JOB-ID", "one JOB-ID"), args)
}

// restoreJobs are restore jobs for --wait and `restore describe`.
var restoreJobs = cli.JobKind[*backup.DescribeRestoreJobOutput]{
	Name: "restore job",
	Fetch: func(ctx context.Context, c *backup.Client, id string) (*backup.DescribeRestoreJobOutput, error) {
		return c.DescribeRestoreJob(ctx, &backup.DescribeRestoreJobInput{RestoreJobId: aws.String(id)})
	},
	Progress: func(out *backup.DescribeRestoreJobOutput) cli.JobProgress {
		return cli.JobProgress{
			State:      string(out.Status),
			Percent:    cli.PercentOf(out.PercentDone, nil, nil),
			Done:       -1,
			Total:      cli.OrMinus(out.BackupSizeInBytes),
			ETAMinutes: cli.OrMinus(out.ExpectedCompletionTimeMinutes),
			Message:    aws.ToString(out.StatusMessage),
		}
	},
	Print: printRestoreJob,
}

func printRestoreJob(w io.Writer, out *backup.DescribeRestoreJobOutput) error {
	return cli.Fields(w,
		"Job ID", out.RestoreJobId,
		"Status", out.Status,
		"Status message", out.StatusMessage,
		"Recovery point", out.RecoveryPointArn,
		"Source resource", out.SourceResourceArn,
		"Created resource", out.CreatedResourceArn,
		"Percent done", cli.PercentCell(cli.PercentOf(out.PercentDone, nil, nil)),
		"Backup size", cli.HumanBytes(out.BackupSizeInBytes),
		"Expected minutes", out.ExpectedCompletionTimeMinutes,
		"Created", out.CreationDate,
		"Completed", out.CompletionDate,
	)
}
