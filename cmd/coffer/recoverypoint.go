package main

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
)

func init() {
	register(command{name: "recovery-point", summary: "list, describe and delete recovery points", run: runRecoveryPoint})
}

var recoveryPointCommands = []subcommand{
	{name: "list", args: "--vault V [--resource-arn ARN]", summary: "list the recovery points in a vault", run: recoveryPointList},
	{name: "describe", args: "--vault V ARN", summary: "show a recovery point", run: recoveryPointDescribe},
	{name: "delete", args: "--vault V ARN", summary: "delete a recovery point", run: recoveryPointDelete},
}

func runRecoveryPoint(ctx context.Context, args []string) error {
	return runGroup(ctx, "recovery-point", recoveryPointCommands, args)
}

// recoveryPointListOutput is the JSON shape of `recovery-point list`.
type recoveryPointListOutput struct {
	RecoveryPoints []types.RecoveryPointByBackupVault
}

func recoveryPointList(ctx context.Context, args []string) error {
	fs, g := newFlagSet(ctx, "recovery-point list", "--vault V [FLAGS]")
	vault := fs.String("vault", "", "backup vault `NAME`")
	arn := fs.String("resource-arn", "", "only recovery points of the resource `ARN`")
	var after, before timeFlag
	fs.Var(&after, "created-after", "only recovery points created after `TIME` (RFC 3339)")
	fs.Var(&before, "created-before", "only recovery points created before `TIME` (RFC 3339)")
	if _, err := wantArgs(fs, args, 0, ""); err != nil {
		return err
	}
	if *vault == "" {
		return usageError("--vault is required")
	}
	s, err := g.open(ctx)
	if err != nil {
		return err
	}
	in := &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: vault, ByCreatedAfter: after.t, ByCreatedBefore: before.t}
	if *arn != "" {
		in.ByResourceArn = arn
	}
	all := recoveryPointListOutput{RecoveryPoints: []types.RecoveryPointByBackupVault{}}
	p := backup.NewListRecoveryPointsByBackupVaultPaginator(s.client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return wrapAPI("list recovery points in vault "+*vault, err)
		}
		all.RecoveryPoints = append(all.RecoveryPoints, page.RecoveryPoints...)
	}
	return s.emit(all, func(w io.Writer) error {
		t := newTable(w, "RECOVERY POINT", "STATUS", "RESOURCE", "CREATED", "SIZE", "DELETE AT")
		for _, rp := range all.RecoveryPoints {
			var deleteAt any
			if rp.CalculatedLifecycle != nil {
				deleteAt = rp.CalculatedLifecycle.DeleteAt
			}
			t.row(rp.RecoveryPointArn, rp.Status, rp.ResourceArn, rp.CreationDate, humanBytes(rp.BackupSizeInBytes), deleteAt)
		}
		return t.flush()
	})
}

// recoveryPointArgs parses `--vault V ARN`.
func recoveryPointArgs(ctx context.Context, name string, args []string) (*globalFlags, string, string, error) {
	fs, g := newFlagSet(ctx, "recovery-point "+name, "--vault V ARN")
	vault := fs.String("vault", "", "backup vault `NAME`")
	pos, err := wantArgs(fs, args, 1, "one recovery point ARN")
	if err != nil {
		return nil, "", "", err
	}
	if *vault == "" {
		return nil, "", "", usageError("--vault is required")
	}
	return g, *vault, pos[0], nil
}

func recoveryPointDescribe(ctx context.Context, args []string) error {
	g, vault, arn, err := recoveryPointArgs(ctx, "describe", args)
	if err != nil {
		return err
	}
	s, err := g.open(ctx)
	if err != nil {
		return err
	}
	out, err := s.client.DescribeRecoveryPoint(ctx, &backup.DescribeRecoveryPointInput{
		BackupVaultName: aws.String(vault), RecoveryPointArn: aws.String(arn),
	})
	if err != nil {
		return wrapAPI("describe recovery point "+arn, err)
	}
	return s.emit(out, func(w io.Writer) error {
		var deleteAt any
		if out.CalculatedLifecycle != nil {
			deleteAt = out.CalculatedLifecycle.DeleteAt
		}
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
			"Delete at", deleteAt,
			"Last restore", out.LastRestoreTime,
		)
	})
}

func recoveryPointDelete(ctx context.Context, args []string) error {
	g, vault, arn, err := recoveryPointArgs(ctx, "delete", args)
	if err != nil {
		return err
	}
	s, err := g.open(ctx)
	if err != nil {
		return err
	}
	out, err := s.client.DeleteRecoveryPoint(ctx, &backup.DeleteRecoveryPointInput{
		BackupVaultName: aws.String(vault), RecoveryPointArn: aws.String(arn),
	})
	if err != nil {
		return wrapAPI("delete recovery point "+arn, err)
	}
	return s.emit(out, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "deleted recovery point %s\n", arn)
		return err
	})
}
