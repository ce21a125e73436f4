package main

import (
	"context"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
)

func init() {
	registerGroup("resource", "list and describe the protected resources (buckets with a recovery point)", []subcommand{
		{name: "list", summary: "list the protected resources", run: resourceList},
		{name: "describe", args: "ARN", summary: "show a protected resource and its last backup", run: resourceDescribe},
	})
}

func resourceList(ctx context.Context, args []string) error {
	c := newClientCmd(ctx, "resource list", "", "")
	return listAndShow(c, args, "Results", func(ctx context.Context, s *session) ([]types.ProtectedResource, error) {
		return listAll(ctx, backup.NewListProtectedResourcesPaginator(s.client, &backup.ListProtectedResourcesInput{MaxResults: pageSize()}),
			func(o *backup.ListProtectedResourcesOutput) []types.ProtectedResource { return o.Results }, "list protected resources")
	}, []string{"RESOURCE", "TYPE", "LAST BACKUP", "LAST RECOVERY POINT"}, func(r types.ProtectedResource) []any {
		return []any{r.ResourceArn, r.ResourceType, r.LastBackupTime, r.LastRecoveryPointArn}
	})
}

func resourceDescribe(ctx context.Context, args []string) error {
	c := newClientCmd(ctx, "resource describe", "ARN", "one resource ARN")
	return callAndShow(c, args, func(ctx context.Context, s *session, arn string) (*backup.DescribeProtectedResourceOutput, error) {
		out, err := s.client.DescribeProtectedResource(ctx, &backup.DescribeProtectedResourceInput{ResourceArn: aws.String(arn)})
		return out, wrapAPI("describe resource "+arn, err)
	}, func(w io.Writer, out *backup.DescribeProtectedResourceOutput, _ string) error {
		return fields(w,
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
