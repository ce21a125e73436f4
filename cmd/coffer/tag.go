package main

import (
	"context"
	"io"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
)

func init() {
	registerGroup("tag", "tag backup vaults, plans and recovery points", []subcommand{
		{name: "add", args: "ARN KEY=VALUE...", summary: "add or change tags of a resource", run: tagAdd},
		{name: "remove", args: "ARN KEY...", summary: "remove tags from a resource", run: tagRemove},
		{name: "list", args: "ARN", summary: "list the tags of a resource", run: tagList},
	})
}

func tagAdd(ctx context.Context, args []string) error {
	c := newClientCmd(ctx, "tag add", "ARN KEY=VALUE...", "a resource ARN")
	c.more = "one or more KEY=VALUE"
	tags := tagFlag{}
	c.check = func() error {
		for _, kv := range c.pos[1:] {
			if err := tags.Set(kv); err != nil {
				return usageError("%v", err)
			}
		}
		return nil
	}
	return callAndShow(c, args, func(ctx context.Context, s *session, arn string) (*backup.TagResourceOutput, error) {
		out, err := s.client.TagResource(ctx, &backup.TagResourceInput{ResourceArn: aws.String(arn), Tags: tags})
		return out, wrapAPI("tag "+arn, err)
	}, say[*backup.TagResourceOutput]("tagged %s"))
}

func tagRemove(ctx context.Context, args []string) error {
	c := newClientCmd(ctx, "tag remove", "ARN KEY...", "a resource ARN")
	c.more = "one or more tag KEY"
	return callAndShow(c, args, func(ctx context.Context, s *session, arn string) (*backup.UntagResourceOutput, error) {
		out, err := s.client.UntagResource(ctx, &backup.UntagResourceInput{ResourceArn: aws.String(arn), TagKeyList: c.pos[1:]})
		return out, wrapAPI("untag "+arn, err)
	}, say[*backup.UntagResourceOutput]("untagged %s"))
}

func tagList(ctx context.Context, args []string) error {
	c := newClientCmd(ctx, "tag list", "ARN", "one resource ARN")
	return callAndShow(c, args, func(ctx context.Context, s *session, arn string) (*backup.ListTagsOutput, error) {
		in := &backup.ListTagsInput{ResourceArn: aws.String(arn), MaxResults: pageSize()}
		pages, err := listAll(ctx, backup.NewListTagsPaginator(s.client, in),
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
		t := newTable(w, "KEY", "VALUE")
		for _, k := range slices.Sorted(maps.Keys(out.Tags)) {
			t.row(k, out.Tags[k])
		}
		return t.flush()
	})
}
