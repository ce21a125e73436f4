package vaultcmd

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
	"github.com/cofferbackup/coffer/internal/cli"
)

func init() {
	cli.RegisterGroup("vault", "create, list, describe and delete backup vaults", []cli.Subcommand{
		{Name: "create", Args: "NAME [--tag KEY=VALUE]... [--location s3://CONNECTION/BUCKET[/PREFIX]]", Summary: "create a backup vault (on this server's disk, or in an S3 bucket)", Run: vaultCreate},
		{Name: "list", Summary: "list backup vaults", Run: vaultList},
		{Name: "describe", Args: "NAME", Summary: "show a backup vault", Run: vaultDescribe},
		{Name: "delete", Args: "NAME", Summary: "delete an empty backup vault", Run: vaultDelete},
		{Name: "attach", Args: "PATH|s3://CONNECTION/BUCKET[/PREFIX]/VAULT-ID [--name NEW]", Summary: "attach a vault (a directory, or an S3 location) made by a server with the same master key", Run: vaultAttach},
		{Name: "lock", Args: "NAME [--min-days N] [--max-days N] [--changeable-days N]", Summary: "apply a vault lock (compliance mode with --changeable-days)", Run: vaultLock},
		{Name: "unlock", Args: "NAME", Summary: "remove a vault lock (governance mode, or before its lock date)", Run: vaultUnlock},
		{Name: "verify", Args: "NAME [--read-data PCT | --read-data-subset PCT] [--seed N] [--no-wait]", Summary: "run a verification job of a vault; exits 1 when a problem is found", Run: vaultVerify},
	})
}

func vaultCreate(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "vault create", "NAME [--tag KEY=VALUE]...", "one vault NAME")
	tags := cli.TagFlag{}
	c.FS.Var(tags, "tag", "vault tag `KEY=VALUE` (repeatable)")
	creatorID := c.FS.String("creator-request-id", "", "idempotency id for the creation")
	location := c.FS.String("location", "", "keep the vault's data in `s3://CONNECTION/BUCKET[/PREFIX]` (Object Lock retention when the bucket has it)")
	return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, name string) (*vaultCreated, error) {
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
		err := s.Extension(ctx, http.MethodPut, "/backup-vaults/"+url.PathEscape(name), in, &out)
		return &out, cli.WrapAPI("create vault "+name, err)
	}, func(w io.Writer, out *vaultCreated, _ string) error {
		fmt.Fprintf(w, "created vault %s\n", out.BackupVaultName)
		created := time.UnixMilli(int64(out.CreationDate * 1000)).UTC()
		return cli.Fields(w, "ARN", &out.BackupVaultArn, "Created", &created, "Location", &out.StorageLocation)
	})
}

func vaultList(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "vault list", "", "")
	return cli.ListAndShow(c, args, "BackupVaultList", func(ctx context.Context, s *cli.Session) ([]types.BackupVaultListMember, error) {
		return cli.ListAll(ctx, backup.NewListBackupVaultsPaginator(s.Client, &backup.ListBackupVaultsInput{MaxResults: cli.PageSize()}),
			func(o *backup.ListBackupVaultsOutput) []types.BackupVaultListMember { return o.BackupVaultList }, "list vaults")
	}, []string{"NAME", "RECOVERY POINTS", "LOCKED", "CREATED", "ARN"}, func(v types.BackupVaultListMember) []any {
		return []any{v.BackupVaultName, v.NumberOfRecoveryPoints, v.Locked, v.CreationDate, v.BackupVaultArn}
	})
}

func vaultDescribe(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "vault describe", "NAME", "one vault NAME")
	return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, name string) (*vaultDescription, error) {
		out, err := s.Client.DescribeBackupVault(ctx, &backup.DescribeBackupVaultInput{BackupVaultName: aws.String(name)})
		if err != nil {
			return nil, cli.WrapAPI("describe vault "+name, err)
		}
		// The SDK drops coffer's StorageLocation: read it raw.
		var ext struct{ StorageLocation string }
		if err := s.Extension(ctx, http.MethodGet, "/backup-vaults/"+url.PathEscape(name), nil, &ext); err != nil {
			return nil, cli.WrapAPI("describe vault "+name, err)
		}
		return &vaultDescription{out, ext.StorageLocation}, nil
	}, func(w io.Writer, d *vaultDescription, _ string) error {
		out := d.DescribeBackupVaultOutput
		return cli.Fields(w,
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
	c := cli.NewClientCmd(ctx, "vault delete", "NAME", "one vault NAME")
	return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, name string) (*backup.DeleteBackupVaultOutput, error) {
		out, err := s.Client.DeleteBackupVault(ctx, &backup.DeleteBackupVaultInput{BackupVaultName: aws.String(name)})
		return out, cli.WrapAPI("delete vault "+name, err)
	}, cli.Say[*backup.DeleteBackupVaultOutput]("deleted vault %s"))
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
	c := cli.NewClientCmd(ctx, "vault attach", "PATH|s3://CONNECTION/BUCKET[/PREFIX]/VAULT-ID [--name NEW]", "one vault directory PATH or S3 location")
	name := c.FS.String("name", "", "attach the vault as `NEW` (when its own name is taken on this server)")
	return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, path string) (*attachOutput, error) {
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
		err := s.Extension(ctx, http.MethodPut, "/backup-vault-attachments", in, &out)
		return &out, cli.WrapAPI("attach vault "+path, err)
	}, func(w io.Writer, out *attachOutput, path string) error {
		fmt.Fprintf(w, "attached vault %s with %d recovery points\n", out.BackupVaultName, out.RecoveryPointsAttached)
		if !out.Moved && !strings.HasPrefix(path, "s3://") {
			fmt.Fprintf(w, "the vault was copied into the server's vault store; %s is left as it was and can be removed\n", path)
		}
		created := time.UnixMilli(int64(out.CreationDate * 1000)).UTC()
		return cli.Fields(w, "ARN", &out.BackupVaultArn, "Created", &created, "Recovery points", &out.NumberOfRecoveryPoints)
	})
}
