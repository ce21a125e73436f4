package main

import (
	"context"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
)

func init() {
	registerGroup("recovery-point", "list, describe and delete recovery points", []subcommand{
		{name: "list", args: "--vault V [--resource-arn ARN]", summary: "list the recovery points in a vault", run: recoveryPointList},
		{name: "describe", args: "--vault V ARN", summary: "show a recovery point", run: recoveryPointDescribe},
		{name: "delete", args: "--vault V ARN", summary: "delete a recovery point", run: recoveryPointDelete},
	})
}

func recoveryPointList(ctx context.Context, args []string) error {
	c := newClientCmd(ctx, "recovery-point list", "--vault V [FLAGS]", "")
	vault := vaultFlag(c)
	arn := c.fs.String("resource-arn", "", "only recovery points of the resource `ARN`")
	after, before := createdFlags(c.fs, "recovery points")
	return listAndShow(c, args, "RecoveryPoints", func(ctx context.Context, s *session) ([]types.RecoveryPointByBackupVault, error) {
		in := &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: vault, ByCreatedAfter: after.t, ByCreatedBefore: before.t, MaxResults: pageSize()}
		if *arn != "" {
			in.ByResourceArn = arn
		}
		return listAll(ctx, backup.NewListRecoveryPointsByBackupVaultPaginator(s.client, in),
			func(o *backup.ListRecoveryPointsByBackupVaultOutput) []types.RecoveryPointByBackupVault {
				return o.RecoveryPoints
			},
			"list recovery points in vault "+*vault)
	}, []string{"RECOVERY POINT", "STATUS", "RESOURCE", "CREATED", "SIZE", "DELETE AT"}, func(rp types.RecoveryPointByBackupVault) []any {
		return []any{rp.RecoveryPointArn, rp.Status, rp.ResourceArn, rp.CreationDate, humanBytes(rp.BackupSizeInBytes), deleteAt(rp.CalculatedLifecycle)}
	})
}

// deleteAt is when a recovery point expires (nil when it does not).
func deleteAt(l *types.CalculatedLifecycle) *time.Time {
	if l == nil {
		return nil
	}
	return l.DeleteAt
}

func recoveryPointDescribe(ctx context.Context, args []string) error {
	c := newClientCmd(ctx, "recovery-point describe", "--vault V ARN", "one recovery point ARN")
	vault := vaultFlag(c)
	return callAndShow(c, args, func(ctx context.Context, s *session, arn string) (*backup.DescribeRecoveryPointOutput, error) {
		out, err := s.client.DescribeRecoveryPoint(ctx, &backup.DescribeRecoveryPointInput{BackupVaultName: vault, RecoveryPointArn: aws.String(arn)})
		return out, wrapAPI("describe recovery point "+arn, err)
	}, func(w io.Writer, out *backup.DescribeRecoveryPointOutput, _ string) error {
		return fields(w,
			"Recovery point", out.RecoveryPointArn,
			"Status", out.Status,
			"Status message", out.StatusMessage,
			"Vault", out.BackupVaultName,
			"Resource", out.ResourceArn,
			"Resource type", out.ResourceType,
			"Size", humanBytes(out.BackupSizeInBytes),
			"Encrypted", out.IsEncrypted,
			"Created", out.CreationDate,
			"Completed", out.CompletionDate,
			"Delete at", deleteAt(out.CalculatedLifecycle),
			"Last restore", out.LastRestoreTime,
		)
	})
}

func recoveryPointDelete(ctx context.Context, args []string) error {
	c := newClientCmd(ctx, "recovery-point delete", "--vault V ARN", "one recovery point ARN")
	vault := vaultFlag(c)
	return callAndShow(c, args, func(ctx context.Context, s *session, arn string) (*backup.DeleteRecoveryPointOutput, error) {
		out, err := s.client.DeleteRecoveryPoint(ctx, &backup.DeleteRecoveryPointInput{BackupVaultName: vault, RecoveryPointArn: aws.String(arn)})
		return out, wrapAPI("delete recovery point "+arn, err)
	}, say[*backup.DeleteRecoveryPointOutput]("deleted recovery point %s"))
}
