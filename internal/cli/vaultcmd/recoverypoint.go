package vaultcmd

import (
	"context"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/cofferbackup/coffer/internal/cli"
)

func init() {
	cli.RegisterGroup("recovery-point", "list, describe and delete recovery points", []cli.Subcommand{
		{Name: "list", Args: "--vault V [--resource-arn ARN]", Summary: "list the recovery points in a vault", Run: recoveryPointList},
		{Name: "describe", Args: "--vault V ARN", Summary: "show a recovery point", Run: recoveryPointDescribe},
		{Name: "delete", Args: "--vault V ARN", Summary: "delete a recovery point", Run: recoveryPointDelete},
	})
}

func recoveryPointList(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "recovery-point list", "--vault V [FLAGS]", "")
	vault := cli.VaultFlag(c)
	arn := c.FS.String("resource-arn", "", "only recovery points of the resource `ARN`")
	after, before := cli.CreatedFlags(c.FS, "recovery points")
	return cli.ListAndShow(c, args, "RecoveryPoints", func(ctx context.Context, s *cli.Session) ([]types.RecoveryPointByBackupVault, error) {
		in := &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: vault, ByCreatedAfter: after.Time, ByCreatedBefore: before.Time, MaxResults: cli.PageSize()}
		if *arn != "" {
			in.ByResourceArn = arn
		}
		return cli.ListAll(ctx, backup.NewListRecoveryPointsByBackupVaultPaginator(s.Client, in),
			func(o *backup.ListRecoveryPointsByBackupVaultOutput) []types.RecoveryPointByBackupVault {
				return o.RecoveryPoints
			},
			"list recovery points in vault "+*vault)
	}, []string{"RECOVERY POINT", "STATUS", "RESOURCE", "CREATED", "SIZE", "DELETE AT"}, func(rp types.RecoveryPointByBackupVault) []any {
		return []any{rp.RecoveryPointArn, rp.Status, rp.ResourceArn, rp.CreationDate, cli.HumanBytes(rp.BackupSizeInBytes), deleteAt(rp.CalculatedLifecycle)}
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
	c := cli.NewClientCmd(ctx, "recovery-point describe", "--vault V ARN", "one recovery point ARN")
	vault := cli.VaultFlag(c)
	return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, arn string) (*backup.DescribeRecoveryPointOutput, error) {
		out, err := s.Client.DescribeRecoveryPoint(ctx, &backup.DescribeRecoveryPointInput{BackupVaultName: vault, RecoveryPointArn: aws.String(arn)})
		return out, cli.WrapAPI("describe recovery point "+arn, err)
	}, func(w io.Writer, out *backup.DescribeRecoveryPointOutput, _ string) error {
		return cli.Fields(w,
			"Recovery point", out.RecoveryPointArn,
			"Status", out.Status,
			"Status message", out.StatusMessage,
			"Vault", out.BackupVaultName,
			"Resource", out.ResourceArn,
			"Resource type", out.ResourceType,
			"Size", cli.HumanBytes(out.BackupSizeInBytes),
			"Encrypted", out.IsEncrypted,
			"Created", out.CreationDate,
			"Completed", out.CompletionDate,
			"Delete at", deleteAt(out.CalculatedLifecycle),
			"Last restore", out.LastRestoreTime,
		)
	})
}

func recoveryPointDelete(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "recovery-point delete", "--vault V ARN", "one recovery point ARN")
	vault := cli.VaultFlag(c)
	return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, arn string) (*backup.DeleteRecoveryPointOutput, error) {
		out, err := s.Client.DeleteRecoveryPoint(ctx, &backup.DeleteRecoveryPointInput{BackupVaultName: vault, RecoveryPointArn: aws.String(arn)})
		return out, cli.WrapAPI("delete recovery point "+arn, err)
	}, cli.Say[*backup.DeleteRecoveryPointOutput]("deleted recovery point %s"))
}
