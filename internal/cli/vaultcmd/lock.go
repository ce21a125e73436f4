package vaultcmd

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/cofferbackup/coffer/internal/cli"
)

func init() {
	cli.RegisterGroup("legal-hold", "create, list, describe and cancel legal holds", []cli.Subcommand{
		{Name: "create", Args: "--title T --description D [--vault NAME]... [--resource ARN]... [--from RFC3339] [--to RFC3339]",
			Summary: "hold the recovery points that match now", Run: holdCreate},
		{Name: "list", Summary: "list legal holds", Run: holdList},
		{Name: "describe", Args: "ID", Summary: "show a legal hold", Run: holdDescribe},
		{Name: "recovery-points", Args: "ID", Summary: "list the recovery points a legal hold holds", Run: holdPoints},
		{Name: "cancel", Args: "ID --description D [--retain-record-days N]", Summary: "cancel a legal hold", Run: holdCancel},
	})
}

// optionalDays is a day count flag that is unset unless given.
type optionalDays struct{ v *int64 }

func (o *optionalDays) String() string {
	if o.v == nil {
		return ""
	}
	return fmt.Sprint(*o.v)
}

func (o *optionalDays) Set(s string) error {
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		return fmt.Errorf("%q is not a number of days", s)
	}
	o.v = &n
	return nil
}

func vaultLock(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "vault lock", "NAME [--min-days N] [--max-days N] [--changeable-days N]", "one vault NAME")
	var minD, maxD, changeable optionalDays
	c.FS.Var(&minD, "min-days", "`N`: every new recovery point is kept at least N days")
	c.FS.Var(&maxD, "max-days", "`N`: every new recovery point is deleted within N days")
	c.FS.Var(&changeable, "changeable-days", "`N` (3 or more): compliance mode; the lock can be changed or removed for N days, by nobody afterwards")
	return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, name string) (*backup.PutBackupVaultLockConfigurationOutput, error) {
		out, err := s.Client.PutBackupVaultLockConfiguration(ctx, &backup.PutBackupVaultLockConfigurationInput{BackupVaultName: aws.String(name),
			MinRetentionDays: minD.v, MaxRetentionDays: maxD.v, ChangeableForDays: changeable.v})
		return out, cli.WrapAPI("lock vault "+name, err)
	}, cli.Say[*backup.PutBackupVaultLockConfigurationOutput]("locked vault %s"))
}

func vaultUnlock(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "vault unlock", "NAME", "one vault NAME")
	return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, name string) (*backup.DeleteBackupVaultLockConfigurationOutput, error) {
		out, err := s.Client.DeleteBackupVaultLockConfiguration(ctx, &backup.DeleteBackupVaultLockConfigurationInput{BackupVaultName: aws.String(name)})
		return out, cli.WrapAPI("unlock vault "+name, err)
	}, cli.Say[*backup.DeleteBackupVaultLockConfigurationOutput]("removed the lock of vault %s"))
}

func holdCreate(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "legal-hold create", "--title T --description D [--vault NAME]... [--resource ARN]... [--from T] [--to T]", "")
	title := c.FS.String("title", "", "the hold's `TITLE` (required)")
	desc := c.FS.String("description", "", "the hold's `DESCRIPTION` (required)")
	var vaultNames, resources cli.ListFlag
	c.FS.Var(&vaultNames, "vault", "hold recovery points of vault `NAME` (repeatable; default every vault)")
	c.FS.Var(&resources, "resource", "hold recovery points of resource `ARN` (repeatable; default every resource)")
	from, to := &cli.TimeFlag{}, &cli.TimeFlag{}
	c.FS.Var(from, "from", "hold recovery points created at or after `TIME` (RFC 3339)")
	c.FS.Var(to, "to", "hold recovery points created at or before `TIME` (RFC 3339)")
	token := c.FS.String("idempotency-token", "", "retry-safe `TOKEN`")
	return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, _ string) (*backup.CreateLegalHoldOutput, error) {
		sel := &types.RecoveryPointSelection{VaultNames: vaultNames, ResourceIdentifiers: resources}
		if from.Time != nil || to.Time != nil {
			sel.DateRange = &types.DateRange{FromDate: from.Time, ToDate: to.Time}
		}
		in := &backup.CreateLegalHoldInput{Title: title, Description: desc, RecoveryPointSelection: sel}
		if *token != "" {
			in.IdempotencyToken = token
		}
		out, err := s.Client.CreateLegalHold(ctx, in)
		return out, cli.WrapAPI("create legal hold", err)
	}, func(w io.Writer, out *backup.CreateLegalHoldOutput, _ string) error {
		fmt.Fprintf(w, "created legal hold %s\n", cli.Cell(out.LegalHoldId))
		return cli.Fields(w, "ARN", out.LegalHoldArn, "Status", out.Status, "Created", out.CreationDate)
	})
}

func holdList(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "legal-hold list", "", "")
	return cli.ListAndShow(c, args, "LegalHolds", func(ctx context.Context, s *cli.Session) ([]types.LegalHold, error) {
		return cli.ListAll(ctx, backup.NewListLegalHoldsPaginator(s.Client, &backup.ListLegalHoldsInput{MaxResults: cli.PageSize()}),
			func(o *backup.ListLegalHoldsOutput) []types.LegalHold { return o.LegalHolds }, "list legal holds")
	}, []string{"ID", "STATUS", "TITLE", "CREATED", "CANCELLED"}, func(h types.LegalHold) []any {
		return []any{h.LegalHoldId, h.Status, h.Title, h.CreationDate, h.CancellationDate}
	})
}

func holdDescribe(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "legal-hold describe", "ID", "one legal hold ID")
	return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, id string) (*backup.GetLegalHoldOutput, error) {
		out, err := s.Client.GetLegalHold(ctx, &backup.GetLegalHoldInput{LegalHoldId: aws.String(id)})
		return out, cli.WrapAPI("describe legal hold "+id, err)
	}, func(w io.Writer, out *backup.GetLegalHoldOutput, _ string) error {
		return cli.Fields(w, "ID", out.LegalHoldId, "ARN", out.LegalHoldArn, "Title", out.Title, "Description", out.Description,
			"Status", out.Status, "Created", out.CreationDate, "Cancelled", out.CancellationDate,
			"Cancel description", out.CancelDescription, "Record kept until", out.RetainRecordUntil)
	})
}

func holdPoints(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "legal-hold recovery-points", "ID", "one legal hold ID")
	return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, id string) (map[string][]types.RecoveryPointMember, error) {
		items, err := cli.ListAll(ctx, backup.NewListRecoveryPointsByLegalHoldPaginator(s.Client, &backup.ListRecoveryPointsByLegalHoldInput{
			LegalHoldId: aws.String(id), MaxResults: cli.PageSize()}),
			func(o *backup.ListRecoveryPointsByLegalHoldOutput) []types.RecoveryPointMember {
				return o.RecoveryPoints
			}, "list held recovery points")
		return map[string][]types.RecoveryPointMember{"RecoveryPoints": items}, err
	}, func(w io.Writer, out map[string][]types.RecoveryPointMember, _ string) error {
		t := cli.NewTable(w, "RECOVERY POINT", "VAULT", "RESOURCE")
		for _, m := range out["RecoveryPoints"] {
			t.Row(m.RecoveryPointArn, m.BackupVaultName, m.ResourceArn)
		}
		return t.Flush()
	})
}

func holdCancel(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "legal-hold cancel", "ID --description D [--retain-record-days N]", "one legal hold ID")
	desc := c.FS.String("description", "", "why the hold ends (required)")
	retain := c.FS.Int64("retain-record-days", 0, "keep the hold's record at least `N` days")
	return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, id string) (*backup.CancelLegalHoldOutput, error) {
		in := &backup.CancelLegalHoldInput{LegalHoldId: aws.String(id), CancelDescription: desc}
		if *retain > 0 {
			in.RetainRecordInDays = retain
		}
		out, err := s.Client.CancelLegalHold(ctx, in)
		return out, cli.WrapAPI("cancel legal hold "+id, err)
	}, cli.Say[*backup.CancelLegalHoldOutput]("cancelled legal hold %s"))
}
