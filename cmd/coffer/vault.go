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
	register(command{name: "vault", summary: "create, list, describe and delete backup vaults", run: runVault})
}

var vaultCommands = []subcommand{
	{name: "create", args: "NAME [--tag KEY=VALUE]...", summary: "create a backup vault", run: vaultCreate},
	{name: "list", summary: "list backup vaults", run: vaultList},
	{name: "describe", args: "NAME", summary: "show a backup vault", run: vaultDescribe},
	{name: "delete", args: "NAME", summary: "delete an empty backup vault", run: vaultDelete},
}

func runVault(ctx context.Context, args []string) error {
	return runGroup(ctx, "vault", vaultCommands, args)
}

func vaultCreate(ctx context.Context, args []string) error {
	fs, g := newFlagSet(ctx, "vault create", "NAME [--tag KEY=VALUE]...")
	tags := tagFlag{}
	fs.Var(tags, "tag", "vault tag `KEY=VALUE` (repeatable)")
	creatorID := fs.String("creator-request-id", "", "idempotency id for the creation")
	pos, err := wantArgs(fs, args, 1, "one vault NAME")
	if err != nil {
		return err
	}
	s, err := g.open(ctx)
	if err != nil {
		return err
	}
	in := &backup.CreateBackupVaultInput{BackupVaultName: aws.String(pos[0])}
	if len(tags) > 0 {
		in.BackupVaultTags = tags
	}
	if *creatorID != "" {
		in.CreatorRequestId = creatorID
	}
	out, err := s.client.CreateBackupVault(ctx, in)
	if err != nil {
		return wrapAPI("create vault "+pos[0], err)
	}
	return s.emit(out, func(w io.Writer) error {
		fmt.Fprintf(w, "created vault %s\n", cell(out.BackupVaultName))
		return fields(w, "ARN", out.BackupVaultArn, "Created", out.CreationDate)
	})
}

// vaultListOutput is the JSON shape of `vault list`: all pages together.
type vaultListOutput struct {
	BackupVaultList []types.BackupVaultListMember
}

func vaultList(ctx context.Context, args []string) error {
	fs, g := newFlagSet(ctx, "vault list", "")
	if _, err := wantArgs(fs, args, 0, ""); err != nil {
		return err
	}
	s, err := g.open(ctx)
	if err != nil {
		return err
	}
	all := vaultListOutput{BackupVaultList: []types.BackupVaultListMember{}}
	p := backup.NewListBackupVaultsPaginator(s.client, &backup.ListBackupVaultsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return wrapAPI("list vaults", err)
		}
		all.BackupVaultList = append(all.BackupVaultList, page.BackupVaultList...)
	}
	return s.emit(all, func(w io.Writer) error {
		t := newTable(w, "NAME", "RECOVERY POINTS", "LOCKED", "CREATED", "ARN")
		for _, v := range all.BackupVaultList {
			t.row(v.BackupVaultName, v.NumberOfRecoveryPoints, v.Locked, v.CreationDate, v.BackupVaultArn)
		}
		return t.flush()
	})
}

func vaultDescribe(ctx context.Context, args []string) error {
	fs, g := newFlagSet(ctx, "vault describe", "NAME")
	pos, err := wantArgs(fs, args, 1, "one vault NAME")
	if err != nil {
		return err
	}
	s, err := g.open(ctx)
	if err != nil {
		return err
	}
	out, err := s.client.DescribeBackupVault(ctx, &backup.DescribeBackupVaultInput{BackupVaultName: aws.String(pos[0])})
	if err != nil {
		return wrapAPI("describe vault "+pos[0], err)
	}
	return s.emit(out, func(w io.Writer) error {
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
	fs, g := newFlagSet(ctx, "vault delete", "NAME")
	pos, err := wantArgs(fs, args, 1, "one vault NAME")
	if err != nil {
		return err
	}
	s, err := g.open(ctx)
	if err != nil {
		return err
	}
	out, err := s.client.DeleteBackupVault(ctx, &backup.DeleteBackupVaultInput{BackupVaultName: aws.String(pos[0])})
	if err != nil {
		return wrapAPI("delete vault "+pos[0], err)
	}
	return s.emit(out, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "deleted vault %s\n", pos[0])
		return err
	})
}
