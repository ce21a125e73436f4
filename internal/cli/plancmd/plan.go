package plancmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/cofferbackup/coffer/internal/cli"
)

func init() {
	cli.RegisterGroup("plan", "create, show, update and delete backup plans", []cli.Subcommand{
		{Name: "create", Args: "--file plan.json [--tag KEY=VALUE]...", Summary: "create a backup plan", Run: planCreate},
		{Name: "list", Args: "[--include-deleted]", Summary: "list backup plans", Run: planList},
		{Name: "get", Args: "ID [--version V] [--preview N]", Summary: "show a backup plan and its next runs", Run: planGet},
		{Name: "update", Args: "ID --file plan.json", Summary: "replace a backup plan by a new version", Run: planUpdate},
		{Name: "delete", Args: "ID", Summary: "delete a backup plan without selections", Run: planDelete},
		{Name: "versions", Args: "ID", Summary: "list the versions of a backup plan", Run: planVersions},
		{Name: "export", Args: "ID", Summary: "print a backup plan as a template", Run: planExport},
		{Name: "from-json", Args: "--file template.json", Summary: "check a template and show the plan it makes", Run: planFromJSON},
	})
}

func planCreate(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "plan create", "--file plan.json [--tag KEY=VALUE]... [--creator-request-id ID]", "")
	var doc *types.BackupPlanInput
	fileFlag(c, planDoc, &doc)
	tags := cli.TagFlag{}
	c.FS.Var(tags, "tag", "plan tag `KEY=VALUE` (repeatable)")
	creatorID := c.FS.String("creator-request-id", "", "idempotency `ID` for the creation")
	return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, _ string) (*backup.CreateBackupPlanOutput, error) {
		in := &backup.CreateBackupPlanInput{BackupPlan: doc}
		if len(tags) > 0 {
			in.BackupPlanTags = tags
		}
		if *creatorID != "" {
			in.CreatorRequestId = creatorID
		}
		out, err := s.Client.CreateBackupPlan(ctx, in)
		return out, cli.WrapAPI("create plan "+aws.ToString(doc.BackupPlanName), err)
	}, func(w io.Writer, out *backup.CreateBackupPlanOutput, _ string) error {
		fmt.Fprintf(w, "created plan %s\n", cli.Cell(doc.BackupPlanName))
		return cli.Fields(w, "ID", out.BackupPlanId, "ARN", out.BackupPlanArn, "Version", out.VersionId, "Created", out.CreationDate)
	})
}

// planColumns and planRow make the table of `plan list` and `plan versions`.
var planColumns = []string{"ID", "NAME", "VERSION", "CREATED", "DELETED", "LAST RUN"}

func planRow(p types.BackupPlansListMember) []any {
	return []any{p.BackupPlanId, p.BackupPlanName, p.VersionId, p.CreationDate, p.DeletionDate, p.LastExecutionDate}
}

func planList(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "plan list", "[--include-deleted]", "")
	deleted := c.FS.Bool("include-deleted", false, "list deleted plans too")
	return cli.ListAndShow(c, args, "BackupPlansList", func(ctx context.Context, s *cli.Session) ([]types.BackupPlansListMember, error) {
		in := &backup.ListBackupPlansInput{MaxResults: cli.PageSize()}
		if *deleted {
			in.IncludeDeleted = deleted
		}
		return cli.ListAll(ctx, backup.NewListBackupPlansPaginator(s.Client, in),
			func(o *backup.ListBackupPlansOutput) []types.BackupPlansListMember { return o.BackupPlansList }, "list plans")
	}, planColumns, planRow)
}

func planVersions(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "plan versions", "ID", "one plan ID")
	return cli.ListAndShow(c, args, "BackupPlanVersionsList", func(ctx context.Context, s *cli.Session) ([]types.BackupPlansListMember, error) {
		id := c.Pos[0]
		in := &backup.ListBackupPlanVersionsInput{BackupPlanId: aws.String(id), MaxResults: cli.PageSize()}
		return cli.ListAll(ctx, backup.NewListBackupPlanVersionsPaginator(s.Client, in),
			func(o *backup.ListBackupPlanVersionsOutput) []types.BackupPlansListMember {
				return o.BackupPlanVersionsList
			},
			"list versions of plan "+id)
	}, planColumns, planRow)
}

func planGet(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "plan get", "ID [--version V] [--preview N]", "one plan ID")
	version := c.FS.String("version", "", "show version `V` (default: the current one)")
	preview := c.FS.Int("preview", 0, "also show the next `N` scheduled runs (at most 10)")
	cli.AddCheck(c, func() error {
		if *preview < 0 {
			return cli.UsageError("--preview must not be negative")
		}
		return nil
	})
	return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, id string) (*backup.GetBackupPlanOutput, error) {
		in := &backup.GetBackupPlanInput{BackupPlanId: aws.String(id), MaxScheduledRunsPreview: int32(min(*preview, 1000))}
		if *version != "" {
			in.VersionId = version
		}
		out, err := s.Client.GetBackupPlan(ctx, in)
		return out, cli.WrapAPI("get plan "+id, err)
	}, func(w io.Writer, out *backup.GetBackupPlanOutput, _ string) error {
		var name *string
		var rules []types.BackupRule
		if out.BackupPlan != nil {
			name, rules = out.BackupPlan.BackupPlanName, out.BackupPlan.Rules
		}
		err := cli.Fields(w,
			"Name", name,
			"ID", out.BackupPlanId,
			"ARN", out.BackupPlanArn,
			"Version", out.VersionId,
			"Created", out.CreationDate,
			"Deleted", out.DeletionDate,
			"Last run", out.LastExecutionDate,
			"Creator request id", out.CreatorRequestId,
			"Advanced settings", advancedCell(out.AdvancedBackupSettings),
		)
		if err == nil {
			err = printRules(w, rules)
		}
		if err == nil && len(out.ScheduledRunsPreview) > 0 {
			err = printRuns(w, rules, out.ScheduledRunsPreview)
		}
		return err
	})
}

// printRules writes the rules of a plan as a table after a blank line.
func printRules(w io.Writer, rules []types.BackupRule) error {
	fmt.Fprintln(w)
	t := cli.NewTable(w, "RULE", "VAULT", "SCHEDULE", "TIME ZONE", "START WINDOW", "COMPLETION WINDOW", "DELETE AFTER DAYS", "COPIES", "RULE ID")
	for _, r := range rules {
		var days *int64
		if r.Lifecycle != nil {
			days = r.Lifecycle.DeleteAfterDays
		}
		t.Row(r.RuleName, r.TargetBackupVaultName, r.ScheduleExpression, r.ScheduleExpressionTimezone,
			minutesCell(r.StartWindowMinutes), minutesCell(r.CompletionWindowMinutes), days, copiesCell(r.CopyActions), r.RuleId)
	}
	return t.Flush()
}

// printRuns writes the scheduled runs of a plan as a table after a blank
// line, with the names of their rules.
func printRuns(w io.Writer, rules []types.BackupRule, runs []types.ScheduledPlanExecutionMember) error {
	names := map[string]string{}
	for _, r := range rules {
		names[aws.ToString(r.RuleId)] = aws.ToString(r.RuleName)
	}
	fmt.Fprintln(w)
	t := cli.NewTable(w, "NEXT RUN", "RULE")
	for _, r := range runs {
		t.Row(r.ExecutionTime, cli.First(names[aws.ToString(r.RuleId)], aws.ToString(r.RuleId)))
	}
	return t.Flush()
}

func minutesCell(m *int64) string {
	if m == nil {
		return ""
	}
	return fmt.Sprintf("%d min", *m)
}

// copiesCell lists the destination vaults of copy actions.
func copiesCell(copies []types.CopyAction) string {
	var arns []string
	for _, c := range copies {
		arns = append(arns, aws.ToString(c.DestinationBackupVaultArn))
	}
	return strings.Join(arns, ", ")
}

// advancedCell shows advanced backup settings as "S3: BackupACLs=disabled".
func advancedCell(settings []types.AdvancedBackupSetting) string {
	var parts []string
	for _, s := range settings {
		parts = append(parts, aws.ToString(s.ResourceType)+": "+cli.OptionsCell(s.BackupOptions))
	}
	return strings.Join(parts, "; ")
}

func planUpdate(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "plan update", "ID --file plan.json", "one plan ID")
	var doc *types.BackupPlanInput
	fileFlag(c, planDoc, &doc)
	return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, id string) (*backup.UpdateBackupPlanOutput, error) {
		out, err := s.Client.UpdateBackupPlan(ctx, &backup.UpdateBackupPlanInput{BackupPlanId: aws.String(id), BackupPlan: doc})
		return out, cli.WrapAPI("update plan "+id, err)
	}, func(w io.Writer, out *backup.UpdateBackupPlanOutput, id string) error {
		fmt.Fprintf(w, "updated plan %s\n", id)
		return cli.Fields(w, "Version", out.VersionId, "Created", out.CreationDate)
	})
}

func planDelete(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "plan delete", "ID", "one plan ID")
	return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, id string) (*backup.DeleteBackupPlanOutput, error) {
		out, err := s.Client.DeleteBackupPlan(ctx, &backup.DeleteBackupPlanInput{BackupPlanId: aws.String(id)})
		return out, cli.WrapAPI("delete plan "+id, err)
	}, cli.Say[*backup.DeleteBackupPlanOutput]("deleted plan %s"))
}

func planExport(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "plan export", "ID", "one plan ID")
	return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, id string) (*backup.ExportBackupPlanTemplateOutput, error) {
		out, err := s.Client.ExportBackupPlanTemplate(ctx, &backup.ExportBackupPlanTemplateInput{BackupPlanId: aws.String(id)})
		return out, cli.WrapAPI("export plan "+id, err)
	}, func(w io.Writer, out *backup.ExportBackupPlanTemplateOutput, _ string) error {
		tmpl := []byte(aws.ToString(out.BackupPlanTemplateJson))
		var buf bytes.Buffer
		if err := json.Indent(&buf, tmpl, "", "  "); err == nil {
			tmpl = buf.Bytes()
		}
		_, err := fmt.Fprintf(w, "%s\n", tmpl)
		return err
	})
}

func planFromJSON(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "plan from-json", "--file template.json", "")
	path := cli.RequiredFlag(c, "file", "`FILE` holding the template (as `plan export` prints it)")
	var tmpl string
	cli.AddCheck(c, func() error {
		data, err := os.ReadFile(strings.TrimPrefix(*path, "file://"))
		tmpl = string(data)
		return err
	})
	return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, _ string) (*backup.GetBackupPlanFromJSONOutput, error) {
		out, err := s.Client.GetBackupPlanFromJSON(ctx, &backup.GetBackupPlanFromJSONInput{BackupPlanTemplateJson: aws.String(tmpl)})
		return out, cli.WrapAPI("check template "+*path, err)
	}, func(w io.Writer, out *backup.GetBackupPlanFromJSONOutput, _ string) error {
		if out.BackupPlan == nil {
			return nil
		}
		if err := cli.Fields(w, "Name", out.BackupPlan.BackupPlanName, "Advanced settings", advancedCell(out.BackupPlan.AdvancedBackupSettings)); err != nil {
			return err
		}
		return printRules(w, out.BackupPlan.Rules)
	})
}
