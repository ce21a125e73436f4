package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
)

func init() {
	registerGroup("vault", "create, list, describe and delete backup vaults", []subcommand{
		{name: "create", args: "NAME [--tag KEY=VALUE]... [--location s3://CONNECTION/BUCKET[/PREFIX]]", summary: "create a backup vault (on this server's disk, or in an S3 bucket)", run: vaultCreate},
		{name: "list", summary: "list backup vaults", run: vaultList},
		{name: "describe", args: "NAME", summary: "show a backup vault", run: vaultDescribe},
		{name: "delete", args: "NAME", summary: "delete an empty backup vault", run: vaultDelete},
		{name: "attach", args: "PATH|s3://CONNECTION/BUCKET[/PREFIX]/VAULT-ID [--name NEW]", summary: "attach a vault (a directory, or an S3 location) made by a server with the same master key", run: vaultAttach},
		{name: "lock", args: "NAME [--min-days N] [--max-days N] [--changeable-days N]", summary: "apply a vault lock (compliance mode with --changeable-days)", run: vaultLock},
		{name: "unlock", args: "NAME", summary: "remove a vault lock (governance mode, or before its lock date)", run: vaultUnlock},
		{name: "verify", args: "NAME [--read-data PCT | --read-data-subset PCT] [--seed N] [--no-wait]", summary: "run a verification job of a vault; exits 1 when a problem is found", run: vaultVerify},
	})
}

func vaultCreate(ctx context.Context, args []string) error {
	c := newClientCmd(ctx, "vault create", "NAME [--tag KEY=VALUE]...", "one vault NAME")
	tags := tagFlag{}
	c.fs.Var(tags, "tag", "vault tag `KEY=VALUE` (repeatable)")
	creatorID := c.fs.String("creator-request-id", "", "idempotency id for the creation")
	location := c.fs.String("location", "", "keep the vault's data in `s3://CONNECTION/BUCKET[/PREFIX]` (Object Lock retention when the bucket has it)")
	return callAndShow(c, args, func(ctx context.Context, s *session, name string) (*vaultCreated, error) {
		// The AWS SDK has no StorageLocation: coffer's extension of the
		// same call.
		in := map[string]any{}
		if len(tags) > 0 {
			in["BackupVaultTags"] = map[string]string(tags)
		}
		if *creatorID != "" {
			in["CreatorRequestId"] = *creatorID
		}
		if *location != "" {
			in["StorageLocation"] = *location
		}
		var out vaultCreated
		err := s.extension(ctx, http.MethodPut, "/backup-vaults/"+url.PathEscape(name), in, &out)
		return &out, wrapAPI("create vault "+name, err)
	}, func(w io.Writer, out *vaultCreated, _ string) error {
		fmt.Fprintf(w, "created vault %s\n", out.BackupVaultName)
		created := time.UnixMilli(int64(out.CreationDate * 1000)).UTC()
		return fields(w, "ARN", &out.BackupVaultArn, "Created", &created, "Location", &out.StorageLocation)
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
	return callAndShow(c, args, func(ctx context.Context, s *session, name string) (*vaultDescription, error) {
		out, err := s.client.DescribeBackupVault(ctx, &backup.DescribeBackupVaultInput{BackupVaultName: aws.String(name)})
		if err != nil {
			return nil, wrapAPI("describe vault "+name, err)
		}
		// The SDK drops coffer's StorageLocation: read it raw.
		var ext struct{ StorageLocation string }
		if err := s.extension(ctx, http.MethodGet, "/backup-vaults/"+url.PathEscape(name), nil, &ext); err != nil {
			return nil, wrapAPI("describe vault "+name, err)
		}
		return &vaultDescription{out, ext.StorageLocation}, nil
	}, func(w io.Writer, d *vaultDescription, _ string) error {
		out := d.DescribeBackupVaultOutput
		return fields(w,
			"Name", out.BackupVaultName,
			"ARN", out.BackupVaultArn,
			"Created", out.CreationDate,
			"Recovery points", out.NumberOfRecoveryPoints,
			"State", out.VaultState,
			"Type", out.VaultType,
			"Location", &d.StorageLocation,
			"Encryption key", out.EncryptionKeyArn,
			"Locked", out.Locked,
			"Lock date", out.LockDate,
			"Min retention days", out.MinRetentionDays,
			"Max retention days", out.MaxRetentionDays,
		)
	})
}

// vaultDescription is DescribeBackupVault's answer with coffer's
// StorageLocation.
type vaultDescription struct {
	*backup.DescribeBackupVaultOutput
	StorageLocation string `json:",omitempty"`
}

func vaultDelete(ctx context.Context, args []string) error {
	c := newClientCmd(ctx, "vault delete", "NAME", "one vault NAME")
	return callAndShow(c, args, func(ctx context.Context, s *session, name string) (*backup.DeleteBackupVaultOutput, error) {
		out, err := s.client.DeleteBackupVault(ctx, &backup.DeleteBackupVaultInput{BackupVaultName: aws.String(name)})
		return out, wrapAPI("delete vault "+name, err)
	}, say[*backup.DeleteBackupVaultOutput]("deleted vault %s"))
}

// vaultCreated is CreateBackupVault's answer with coffer's StorageLocation.
type vaultCreated struct {
	BackupVaultName, BackupVaultArn, StorageLocation string
	CreationDate                                     float64
}

// attachOutput is the answer of the attach extension (docs/api.md).
type attachOutput struct {
	BackupVaultName        string
	BackupVaultArn         string
	CreationDate           float64
	NumberOfRecoveryPoints int64
	RecoveryPointsAttached int
	Moved                  bool
}

func vaultAttach(ctx context.Context, args []string) error {
	c := newClientCmd(ctx, "vault attach", "PATH|s3://CONNECTION/BUCKET[/PREFIX]/VAULT-ID [--name NEW]", "one vault directory PATH or S3 location")
	name := c.fs.String("name", "", "attach the vault as `NEW` (when its own name is taken on this server)")
	return callAndShow(c, args, func(ctx context.Context, s *session, path string) (*attachOutput, error) {
		in := map[string]string{"BackupVaultName": *name}
		if strings.HasPrefix(path, "s3://") {
			in["StorageLocation"] = path // an S3-backed vault's location
		} else {
			// The server opens the path: send it absolute, as the user meant it.
			abs, err := filepath.Abs(path)
			if err != nil {
				return nil, fmt.Errorf("attach vault %s: %w", path, err)
			}
			in["Path"] = abs
		}
		var out attachOutput
		err := s.extension(ctx, http.MethodPut, "/backup-vault-attachments", in, &out)
		return &out, wrapAPI("attach vault "+path, err)
	}, func(w io.Writer, out *attachOutput, path string) error {
		fmt.Fprintf(w, "attached vault %s with %d recovery points\n", out.BackupVaultName, out.RecoveryPointsAttached)
		if !out.Moved && !strings.HasPrefix(path, "s3://") {
			fmt.Fprintf(w, "the vault was copied into the server's vault store; %s is left as it was and can be removed\n", path)
		}
		created := time.UnixMilli(int64(out.CreationDate * 1000)).UTC()
		return fields(w, "ARN", &out.BackupVaultArn, "Created", &created, "Recovery points", &out.NumberOfRecoveryPoints)
	})
}
