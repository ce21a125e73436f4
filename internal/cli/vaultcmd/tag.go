package vaultcmd

import (
	"context"
	"io"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/cofferbackup/coffer/internal/cli"
)

func init() {
	cli.RegisterGroup("tag", "tag backup vaults, plans and recovery points", []cli.Subcommand{
		{Name: "add", Args: "ARN KEY=VALUE...", Summary: "add or change tags of a resource", Run: tagAdd},
		{Name: "remove", Args: "ARN KEY...", Summary: "remove tags from a resource", Run: tagRemove},
		{Name: "list", Args: "ARN", Summary: "list the tags of a resource", Run: tagList},
	})
}

func tagAdd(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "tag add", "ARN KEY=VALUE...", "a resource ARN")
	c.More = "one or more KEY=VALUE"
	tags := cli.TagFlag{}
	c.Check = func() error {
		for _, kv := range c.Pos[1:] {
			if err := tags.Set(kv); err != nil {
				return cli.UsageError("%v", err)
			}
		}
		return nil
	}
	return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, arn string) (*backup.TagResourceOutput, error) {
		out, err := s.Client.TagResource(ctx, &backup.TagResourceInput{ResourceArn: aws.String(arn), Tags: tags})
		return out, cli.WrapAPI("tag "+arn, err)
	}, cli.Say[*backup.TagResourceOutput]("tagged %s"))
}

func tagRemove(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "tag remove", "ARN KEY...", "a resource ARN")
	c.More = "one or more tag KEY"
	return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, arn string) (*backup.UntagResourceOutput, error) {
		out, err := s.Client.UntagResource(ctx, &backup.UntagResourceInput{ResourceArn: aws.String(arn), TagKeyList: c.Pos[1:]})
		return out, cli.WrapAPI("untag "+arn, err)
	}, cli.Say[*backup.UntagResourceOutput]("untagged %s"))
}

func tagList(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "tag list", "ARN", "one resource ARN")
	return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, arn string) (*backup.ListTagsOutput, error) {
		in := &backup.ListTagsInput{ResourceArn: aws.String(arn), MaxResults: cli.PageSize()}
		pages, err := cli.ListAll(ctx, backup.NewListTagsPaginator(s.Client, in),
			func(o *backup.ListTagsOutput) []map[string]string { return []map[string]string{o.Tags} }, "list tags of "+arn)
		if err != nil {
			return nil, err
		}
		out := &backup.ListTagsOutput{Tags: map[string]string{}}
		for _, p := range pages {
			maps.Copy(out.Tags, p)
		}
		return out, nil
	}, func(w io.Writer, out *backup.ListTagsOutput, _ string) error {
		t := cli.NewTable(w, "KEY", "VALUE")
		for _, k := range slices.Sorted(maps.Keys(out.Tags)) {
			t.Row(k, out.Tags[k])
		}
		return t.Flush()
	})
}
