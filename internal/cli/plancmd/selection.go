package plancmd

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/cofferbackup/coffer/internal/cli"
)

func init() {
	cli.RegisterGroup("selection", "assign buckets to backup plans", []cli.Subcommand{
		{Name: "create", Args: "--plan ID --file selection.json", Summary: "create a backup selection in a plan", Run: selectionCreate},
		{Name: "list", Args: "--plan ID", Summary: "list the selections of a plan", Run: selectionList},
		{Name: "get", Args: "--plan ID SELECTION-ID", Summary: "show a backup selection", Run: selectionGet},
		{Name: "delete", Args: "--plan ID SELECTION-ID", Summary: "delete a backup selection", Run: selectionDelete},
	})
}

// planFlag adds the required --plan flag to c.
func planFlag(c *cli.ClientCmd) *string {
	return cli.RequiredFlag(c, "plan", "backup plan `ID`")
}

func selectionCreate(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "selection create", "--plan ID --file selection.json [--creator-request-id ID]", "")
	plan := planFlag(c)
	var doc *types.BackupSelection
	fileFlag(c, selectionDoc, &doc)
	creatorID := c.FS.String("creator-request-id", "", "idempotency `ID` for the creation")
	return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, _ string) (*backup.CreateBackupSelectionOutput, error) {
		in := &backup.CreateBackupSelectionInput{BackupPlanId: plan, BackupSelection: doc}
		if *creatorID != "" {
			in.CreatorRequestId = creatorID
		}
		out, err := s.Client.CreateBackupSelection(ctx, in)
		return out, cli.WrapAPI("create selection "+aws.ToString(doc.SelectionName)+" in plan "+*plan, err)
	}, func(w io.Writer, out *backup.CreateBackupSelectionOutput, _ string) error {
		fmt.Fprintf(w, "created selection %s\n", cli.Cell(doc.SelectionName))
		return cli.Fields(w, "ID", out.SelectionId, "Plan", out.BackupPlanId, "Created", out.CreationDate)
	})
}

func selectionList(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "selection list", "--plan ID", "")
	plan := planFlag(c)
	return cli.ListAndShow(c, args, "BackupSelectionsList", func(ctx context.Context, s *cli.Session) ([]types.BackupSelectionsListMember, error) {
		in := &backup.ListBackupSelectionsInput{BackupPlanId: plan, MaxResults: cli.PageSize()}
		return cli.ListAll(ctx, backup.NewListBackupSelectionsPaginator(s.Client, in),
			func(o *backup.ListBackupSelectionsOutput) []types.BackupSelectionsListMember {
				return o.BackupSelectionsList
			},
			"list selections of plan "+*plan)
	}, []string{"ID", "NAME", "CREATED", "IAM ROLE"}, func(sel types.BackupSelectionsListMember) []any {
		return []any{sel.SelectionId, sel.SelectionName, sel.CreationDate, sel.IamRoleArn}
	})
}

func selectionGet(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "selection get", "--plan ID SELECTION-ID", "one SELECTION-ID")
	plan := planFlag(c)
	return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, id string) (*backup.GetBackupSelectionOutput, error) {
		out, err := s.Client.GetBackupSelection(ctx, &backup.GetBackupSelectionInput{BackupPlanId: plan, SelectionId: aws.String(id)})
		return out, cli.WrapAPI("get selection "+id+" of plan "+*plan, err)
	}, func(w io.Writer, out *backup.GetBackupSelectionOutput, _ string) error {
		sel := out.BackupSelection
		if sel == nil {
			sel = &types.BackupSelection{}
		}
		return cli.Fields(w,
			"Name", sel.SelectionName,
			"ID", out.SelectionId,
			"Plan", out.BackupPlanId,
			"Created", out.CreationDate,
			"Creator request id", out.CreatorRequestId,
			"IAM role", sel.IamRoleArn,
			"Resources", strings.Join(sel.Resources, ", "),
			"Not resources", strings.Join(sel.NotResources, ", "),
			"Tags", tagConditionsCell(sel.ListOfTags),
			"Conditions", conditionsCell(sel.Conditions),
		)
	})
}

// tagConditionsCell shows ListOfTags as "STRINGEQUALS key=value, ...".
func tagConditionsCell(conds []types.Condition) string {
	parts := make([]string, 0, len(conds))
	for _, c := range conds {
		parts = append(parts, fmt.Sprintf("%s %s=%s", c.ConditionType, aws.ToString(c.ConditionKey), aws.ToString(c.ConditionValue)))
	}
	return strings.Join(parts, ", ")
}

// conditionsCell shows Conditions as "StringEquals key=value, ...".
func conditionsCell(c *types.Conditions) string {
	if c == nil {
		return ""
	}
	var parts []string
	for _, g := range []struct {
		op    string
		tests []types.ConditionParameter
	}{{"StringEquals", c.StringEquals}, {"StringNotEquals", c.StringNotEquals}, {"StringLike", c.StringLike}, {"StringNotLike", c.StringNotLike}} {
		for _, p := range g.tests {
			parts = append(parts, fmt.Sprintf("%s %s=%s", g.op, aws.ToString(p.ConditionKey), aws.ToString(p.ConditionValue)))
		}
	}
	return strings.Join(parts, ", ")
}

func selectionDelete(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "selection delete", "--plan ID SELECTION-ID", "one SELECTION-ID")
	plan := planFlag(c)
	return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, id string) (*backup.DeleteBackupSelectionOutput, error) {
		out, err := s.Client.DeleteBackupSelection(ctx, &backup.DeleteBackupSelectionInput{BackupPlanId: plan, SelectionId: aws.String(id)})
		return out, cli.WrapAPI("delete selection "+id+" of plan "+*plan, err)
	}, cli.Say[*backup.DeleteBackupSelectionOutput]("deleted selection %s"))
}
