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
	registerGroup("legal-hold", "create, list, describe and cancel legal holds", []subcommand{
		{name: "create", args: "--title T --description D [--vault NAME]... [--resource ARN]... [--from RFC3339] [--to RFC3339]",
			summary: "hold the recovery points that match now", run: holdCreate},
		{name: "list", summary: "list legal holds", run: holdList},
		{name: "describe", args: "ID", summary: "show a legal hold", run: holdDescribe},
		{name: "recovery-points", args: "ID", summary: "list the recovery points a legal hold holds", run: holdPoints},
		{name: "cancel", args: "ID --description D [--retain-record-days N]", summary: "cancel a legal hold", run: holdCancel},
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
	c := newClientCmd(ctx, "vault lock", "NAME [--min-days N] [--max-days N] [--changeable-days N]", "one vault NAME")
	var minD, maxD, changeable optionalDays
	c.fs.Var(&minD, "min-days", "`N`: every new recovery point is kept at least N days")
	c.fs.Var(&maxD, "max-days", "`N`: every new recovery point is deleted within N days")
	c.fs.Var(&changeable, "changeable-days", "`N` (3 or more): compliance mode; the lock can be changed or removed for N days, by nobody afterwards")
	return callAndShow(c, args, func(ctx context.Context, s *session, name string) (*backup.PutBackupVaultLockConfigurationOutput, error) {
		out, err := s.client.PutBackupVaultLockConfiguration(ctx, &backup.PutBackupVaultLockConfigurationInput{BackupVaultName: aws.String(name),
			MinRetentionDays: minD.v, MaxRetentionDays: maxD.v, ChangeableForDays: changeable.v})
		return out, wrapAPI("lock vault "+name, err)
	}, say[*backup.PutBackupVaultLockConfigurationOutput]("locked vault %s"))
}

func vaultUnlock(ctx context.Context, args []string) error {
	c := newClientCmd(ctx, "vault unlock", "NAME", "one vault NAME")
	return callAndShow(c, args, func(ctx context.Context, s *session, name string) (*backup.DeleteBackupVaultLockConfigurationOutput, error) {
		out, err := s.client.DeleteBackupVaultLockConfiguration(ctx, &backup.DeleteBackupVaultLockConfigurationInput{BackupVaultName: aws.String(name)})
		return out, wrapAPI("unlock vault "+name, err)
	}, say[*backup.DeleteBackupVaultLockConfigurationOutput]("removed the lock of vault %s"))
}

func holdCreate(ctx context.Context, args []string) error {
	c := newClientCmd(ctx, "legal-hold create", "--title T --description D [--vault NAME]... [--resource ARN]... [--from T] [--to T]", "")
	title := c.fs.String("title", "", "the hold's `TITLE` (required)")
	desc := c.fs.String("description", "", "the hold's `DESCRIPTION` (required)")
	var vaultNames, resources listFlag
	c.fs.Var(&vaultNames, "vault", "hold recovery points of vault `NAME` (repeatable; default every vault)")
	c.fs.Var(&resources, "resource", "hold recovery points of resource `ARN` (repeatable; default every resource)")
	from, to := &timeFlag{}, &timeFlag{}
	c.fs.Var(from, "from", "hold recovery points created at or after `TIME` (RFC 3339)")
	c.fs.Var(to, "to", "hold recovery points created at or before `TIME` (RFC 3339)")
	token := c.fs.String("idempotency-token", "", "retry-safe `TOKEN`")
	return callAndShow(c, args, func(ctx context.Context, s *session, _ string) (*backup.CreateLegalHoldOutput, error) {
		sel := &types.RecoveryPointSelection{VaultNames: vaultNames, ResourceIdentifiers: resources}
		if from.t != nil || to.t != nil {
			sel.DateRange = &types.DateRange{FromDate: from.t, ToDate: to.t}
		}
		in := &backup.CreateLegalHoldInput{Title: title, Description: desc, RecoveryPointSelection: sel}
		if *token != "" {
			in.IdempotencyToken = token
		}
		out, err := s.client.CreateLegalHold(ctx, in)
		return out, wrapAPI("create legal hold", err)
	}, func(w io.Writer, out *backup.CreateLegalHoldOutput, _ string) error {
		fmt.Fprintf(w, "created legal hold %s\n", cell(out.LegalHoldId))
		return fields(w, "ARN", out.LegalHoldArn, "Status", out.Status, "Created", out.CreationDate)
	})
}

func holdList(ctx context.Context, args []string) error {
	c := newClientCmd(ctx, "legal-hold list", "", "")
	return listAndShow(c, args, "LegalHolds", func(ctx context.Context, s *session) ([]types.LegalHold, error) {
		return listAll(ctx, backup.NewListLegalHoldsPaginator(s.client, &backup.ListLegalHoldsInput{MaxResults: pageSize()}),
			func(o *backup.ListLegalHoldsOutput) []types.LegalHold { return o.LegalHolds }, "list legal holds")
	}, []string{"ID", "STATUS", "TITLE", "CREATED", "CANCELLED"}, func(h types.LegalHold) []any {
		return []any{h.LegalHoldId, h.Status, h.Title, h.CreationDate, h.CancellationDate}
	})
}

func holdDescribe(ctx context.Context, args []string) error {
	c := newClientCmd(ctx, "legal-hold describe", "ID", "one legal hold ID")
	return callAndShow(c, args, func(ctx context.Context, s *session, id string) (*backup.GetLegalHoldOutput, error) {
		out, err := s.client.GetLegalHold(ctx, &backup.GetLegalHoldInput{LegalHoldId: aws.String(id)})
		return out, wrapAPI("describe legal hold "+id, err)
	}, func(w io.Writer, out *backup.GetLegalHoldOutput, _ string) error {
		return fields(w, "ID", out.LegalHoldId, "ARN", out.LegalHoldArn, "Title", out.Title, "Description", out.Description,
			"Status", out.Status, "Created", out.CreationDate, "Cancelled", out.CancellationDate,
			"Cancel description", out.CancelDescription, "Record kept until", out.RetainRecordUntil)
	})
}

func holdPoints(ctx context.Context, args []string) error {
	c := newClientCmd(ctx, "legal-hold recovery-points", "ID", "one legal hold ID")
	return callAndShow(c, args, func(ctx context.Context, s *session, id string) (map[string][]types.RecoveryPointMember, error) {
		items, err := listAll(ctx, backup.NewListRecoveryPointsByLegalHoldPaginator(s.client, &backup.ListRecoveryPointsByLegalHoldInput{
			LegalHoldId: aws.String(id), MaxResults: pageSize()}),
			func(o *backup.ListRecoveryPointsByLegalHoldOutput) []types.RecoveryPointMember {
				return o.RecoveryPoints
			}, "list held recovery points")
		return map[string][]types.RecoveryPointMember{"RecoveryPoints": items}, err
	}, func(w io.Writer, out map[string][]types.RecoveryPointMember, _ string) error {
		t := newTable(w, "RECOVERY POINT", "VAULT", "RESOURCE")
		for _, m := range out["RecoveryPoints"] {
			t.row(m.RecoveryPointArn, m.BackupVaultName, m.ResourceArn)
		}
		return t.flush()
	})
}

func holdCancel(ctx context.Context, args []string) error {
	c := newClientCmd(ctx, "legal-hold cancel", "ID --description D [--retain-record-days N]", "one legal hold ID")
	desc := c.fs.String("description", "", "why the hold ends (required)")
	retain := c.fs.Int64("retain-record-days", 0, "keep the hold's record at least `N` days")
	return callAndShow(c, args, func(ctx context.Context, s *session, id string) (*backup.CancelLegalHoldOutput, error) {
		in := &backup.CancelLegalHoldInput{LegalHoldId: aws.String(id), CancelDescription: desc}
		if *retain > 0 {
			in.RetainRecordInDays = retain
		}
		out, err := s.client.CancelLegalHold(ctx, in)
		return out, wrapAPI("cancel legal hold "+id, err)
	}, say[*backup.CancelLegalHoldOutput]("cancelled legal hold %s"))
}
