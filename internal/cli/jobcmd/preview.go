package jobcmd

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/cofferbackup/coffer/internal/cli"
)

// restorePreview is the answer of POST /restore-previews (docs/api.md,
// "Restore previews").
type restorePreview struct {
	RecoveryPointArn, DestinationBucketName, RestoreMode string
	Write, Skip, DeleteMark, Unchanged                   struct {
		Count int64
		Keys  []string
	}
	VersionsToWrite, DeleteMarkersToWrite, BytesToWrite int64
	FailedCount                                         int64                                     `json:",omitempty"`
	Failures                                            []struct{ Key, VersionId, Reason string } `json:",omitempty"`
	Notes                                               []string                                  `json:",omitempty"`
}

func restorePreviewCmd(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "restore preview", "RP-ARN --bucket B [FLAGS]", "one RP-ARN")
	f := &restoreFlags{}
	fs := c.FS
	fs.StringVar(&f.destBucket, "bucket", "", "destination bucket `NAME` (for --rollback: the recovery point's own, the default)")
	fs.BoolVar(&f.newBucket, "new-bucket", false, "the restore would create the bucket")
	fs.Var(&f.items, "item", "only `s3://BUCKET/PREFIX` (repeatable; default: everything)")
	fs.StringVar(&f.versions, "versions", "", "the latest `N` versions of each object, or \"all\" (default: latest only)")
	fs.BoolVar(&f.overwrite, "overwrite", false, "the restore would overwrite objects that exist in the destination")
	fs.BoolVar(&f.rollback, "rollback", false, "preview an in-place rollback of the recovery point's own bucket")
	fs.Var(&f.restoreTime, "restore-time", "point in `TIME` to restore (RFC 3339; continuous recovery points)")
	maxKeys := fs.Int("max-keys", 0, "list up to `N` keys per class (default 100, at most 1000)")
	var md map[string]string
	c.Check = func() (err error) { md, err = f.metadata(); return err }
	return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, arn string) (*restorePreview, error) {
		in := map[string]any{"RecoveryPointArn": arn, "ResourceType": "S3", "Metadata": md, "MaxKeys": *maxKeys}
		var out restorePreview
		err := s.ExtensionWithin(ctx, previewTimeout, http.MethodPost, "/restore-previews", in, &out)
		return &out, cli.WrapAPI("preview restore of "+arn, err)
	}, func(w io.Writer, p *restorePreview, _ string) error { return showPreview(w, p) })
}

func showPreview(w io.Writer, p *restorePreview) error {
	if err := cli.Fields(w, "Recovery point", &p.RecoveryPointArn, "Destination", &p.DestinationBucketName, "Mode", &p.RestoreMode); err != nil {
		return err
	}
	fmt.Fprintf(w, "Would write %d objects (%d versions, %d delete markers, %s)\n",
		p.Write.Count+p.DeleteMark.Count, p.VersionsToWrite, p.DeleteMarkersToWrite, cli.HumanBytes(&p.BytesToWrite))
	list(w, fmt.Sprintf("Write (%d)", p.Write.Count), p.Write.Keys)
	list(w, fmt.Sprintf("Delete-mark (%d)", p.DeleteMark.Count), p.DeleteMark.Keys)
	list(w, fmt.Sprintf("Skip, already at the destination (%d)", p.Skip.Count), p.Skip.Keys)
	if p.RestoreMode == "rollback" {
		fmt.Fprintf(w, "Unchanged, already as in the recovery point: %d\n", p.Unchanged.Count)
	}
	for _, f := range p.Failures {
		fmt.Fprintf(w, "could not compare %s: %s\n", keyCell(f.Key), f.Reason)
	}
	list(w, "Notes", p.Notes)
	return nil
}

// previewTimeout bounds a preview, which lists the whole destination (and,
// for a rollback, reads the metadata of the keys that may be equal).
const previewTimeout = 6 * time.Hour
