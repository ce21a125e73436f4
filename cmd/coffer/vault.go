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
	registerGroup("vault", "create, list, describe and delete backup vaults", []subcommand{
		{name: "create", args: "NAME [--tag KEY=VALUE]...", summary: "create a backup vault", run: vaultCreate},
		{name: "list", summary: "list backup vaults", run: vaultList},
		{name: "describe", args: "NAME", summary: "show a backup vault", run: vaultDescribe},
		{name: "delete", args: "NAME", summary: "delete an empty backup vault", run: vaultDelete},
	})
}

func vaultCreate(ctx context.Context, args []string) error {
	c := newClientCmd(ctx, "vault create", "NAME [--tag KEY=VALUE]...", "one vault NAME")
	tags := tagFlag{}
	c.fs.Var(tags, "tag", "vault tag `KEY=VALUE` (repeatable)")
	creatorID := c.fs.String("creator-request-id", "", "idempotency id for the creation")
	return callAndShow(c, args, func(ctx context.Context, s *session, name string) (*backup.CreateBackupVaultOutput, error) {
		in := &backup.CreateBackupVaultInput{BackupVaultName: aws.String(name)}
		if len(tags) > 0 {
			in.BackupVaultTags = tags
		}
		if *creatorID != "" {
			in.CreatorRequestId = creatorID
		}
		out, err := s.client.CreateBackupVault(ctx, in)
		return out, wrapAPI("create vault "+name, err)
	}, func(w io.Writer, out *backup.CreateBackupVaultOutput, _ string) error {
		fmt.Fprintf(w, "created vault %s\n", cell(out.BackupVaultName))
		return fields(w, "ARN", out.BackupVaultArn, "Created", out.CreationDate)
	})
}

func vaultList(ctx context.Context, args []string) error {
	c := newClientCmd(ctx, "vault list", "", "")
	return listAndShow(c, args, "BackupVaultList", func(ctx context.Context, s *session) ([]types.BackupVaultListMember, error) {
		return listAll(ctx, backup.NewListBackupVaultsPaginator(s.client, &backup.ListBackupVaultsInput{MaxResults: pageSize()}),
			func(o *backup.ListBackupVaultsOutput) []types.BackupVaultListMember { return o.BackupVaultList }, "list vaults")
	}, []string{"NAME", "RECOVERY POINTS", "LOCKED", "CREATED", "ARN"}, func(v types.BackupVaultListMember) []any {
		return []any{v.BackupVaultName, v.NumberOfRecoveryPoints, v.Locked, v.CreationDate, v.BackupVaultArn}
	})
}

func vaultDescribe(ctx context.Context, args []string) error {
	c := newClientCmd(ctx, "vault describe", "NAME", "one vault NAME")
	return callAndShow(c, args, func(ctx context.Context, s *session, name string) (*backup.DescribeBackupVaultOutput, error) {
		out, err := s.client.DescribeBackupVault(ctx, &backup.DescribeBackupVaultInput{BackupVaultName: aws.String(name)})
		return out, wrapAPI("describe vault "+name, err)
	}, func(w io.Writer, out *backup.DescribeBackupVaultOutput, _ string) error {
		return fields(w,
			"Name", out.BackupVaultName,
			"ARN", out.BackupVaultArn,
			"Created", out.CreationDate,
			"Recovery points", out.NumberOfRecoveryPoints,
			"State", out.VaultState,
			"Type", out.VaultType,
			"Encryption key", out.EncryptionKeyArn,
			"Locked", out.Locked,
			"Lock date", out.LockDate,
			"Min retention days", out.MinRetentionDays,
			"Max retention days", out.MaxRetentionDays,
		)
	})
}

func vaultDelete(ctx context.Context, args []string) error {
	c := newClientCmd(ctx, "vault delete", "NAME", "one vault NAME")
	return callAndShow(c, args, func(ctx context.Context, s *session, name string) (*backup.DeleteBackupVaultOutput, error) {
		out, err := s.client.DeleteBackupVault(ctx, &backup.DeleteBackupVaultInput{BackupVaultName: aws.String(name)})
		return out, wrapAPI("delete vault "+name, err)
	}, say[*backup.DeleteBackupVaultOutput]("deleted vault %s"))
}
