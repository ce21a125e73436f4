package vaultcmd

import (
	"context"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/cofferbackup/coffer/internal/cli"
)

func init() {
	cli.RegisterGroup("resource", "list and describe the protected resources (buckets with a recovery point)", []cli.Subcommand{
		{Name: "list", Summary: "list the protected resources", Run: resourceList},
		{Name: "describe", Args: "ARN", Summary: "show a protected resource and its last backup", Run: resourceDescribe},
	})
}

func resourceList(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "resource list", "", "")
	return cli.ListAndShow(c, args, "Results", func(ctx context.Context, s *cli.Session) ([]types.ProtectedResource, error) {
		return cli.ListAll(ctx, backup.NewListProtectedResourcesPaginator(s.Client, &backup.ListProtectedResourcesInput{MaxResults: cli.PageSize()}),
			func(o *backup.ListProtectedResourcesOutput) []types.ProtectedResource { return o.Results }, "list protected resources")
	}, []string{"RESOURCE", "TYPE", "LAST BACKUP", "LAST RECOVERY POINT"}, func(r types.ProtectedResource) []any {
		return []any{r.ResourceArn, r.ResourceType, r.LastBackupTime, r.LastRecoveryPointArn}
	})
}

func resourceDescribe(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "resource describe", "ARN", "one resource ARN")
	return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, arn string) (*backup.DescribeProtectedResourceOutput, error) {
		out, err := s.Client.DescribeProtectedResource(ctx, &backup.DescribeProtectedResourceInput{ResourceArn: aws.String(arn)})
		return out, cli.WrapAPI("describe resource "+arn, err)
	}, func(w io.Writer, out *backup.DescribeProtectedResourceOutput, _ string) error {
		return cli.Fields(w,
			"Resource", out.ResourceArn,
			"Name", out.ResourceName,
			"Type", out.ResourceType,
			"Last backup", out.LastBackupTime,
			"Last vault", out.LastBackupVaultArn,
			"Last recovery point", out.LastRecoveryPointArn,
			"Last restore job", out.LatestRestoreJobCreationDate,
			"Last restore minutes", out.LatestRestoreExecutionTimeMinutes,
		)
	})
}
