package jobcmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/cofferbackup/coffer/internal/cli"
)

// jobReport is a job's report as the extension answers it (docs/api.md,
// "Job reports"): the per-key detail coffer keeps in the vault.
type jobReport struct {
	RestoreJobId, BackupJobId, State string
	CompletionDate                   *time.Time
	ItemsToRestore, SkippedKeys      []string
	SkippedCount, FailedCount        int64
	Failures                         []struct{ Key, VersionId, Reason string }
	Notes, Details                   []string
}

func (r *jobReport) UnmarshalJSON(data []byte) error {
	type plain jobReport // without this method
	var wire struct {
		plain
		CompletionDate *float64
	}
	if err := json.Unmarshal(data, &wire); err != nil {
		return err
	}
	*r = jobReport(wire.plain)
	r.CompletionDate = epochTime(wire.CompletionDate)
	return nil
}

// reportCommand is `coffer restore report` or `coffer backup report`.
func reportCommand(kind, path string) func(context.Context, []string) error {
	return func(ctx context.Context, args []string) error {
		c := cli.NewClientCmd(ctx, kind+" report", "JOB-ID", "one JOB-ID")
		return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, id string) (*jobReport, error) {
			var out jobReport
			err := s.Extension(ctx, http.MethodGet, path+url.PathEscape(id)+"/report", struct{}{}, &out)
			return &out, cli.WrapAPI("report of "+kind+" job "+id, err)
		}, func(w io.Writer, r *jobReport, id string) error { return showReport(w, r, id) })
	}
}

func showReport(w io.Writer, r *jobReport, id string) error {
	if err := cli.Fields(w, "Job", &id, "State", &r.State, "Completed", r.CompletionDate); err != nil {
		return err
	}
	list(w, fmt.Sprintf("Items to restore (%d)", len(r.ItemsToRestore)), r.ItemsToRestore)
	list(w, fmt.Sprintf("Skipped, already at the destination (%d)", r.SkippedCount), r.SkippedKeys)
	failed := make([]string, 0, len(r.Failures))
	for _, f := range r.Failures {
		line := keyCell(f.Key)
		if f.VersionId != "" {
			line += " (version " + f.VersionId + ")"
		}
		failed = append(failed, line+": "+f.Reason)
	}
	if r.FailedCount > 0 {
		fmt.Fprintf(w, "Failed (%d):\n", r.FailedCount)
		for _, l := range failed {
			fmt.Fprintln(w, "  "+l)
		}
	}
	list(w, "Notes", append(r.Notes, r.Details...))
	return nil
}

// list prints a titled list, nothing if it is empty; keys that do not
// print plainly are quoted.
func list(w io.Writer, title string, items []string) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintln(w, title+":")
	for _, it := range items {
		fmt.Fprintln(w, "  "+keyCell(it))
	}
}

func keyCell(k string) string {
	if k == "" || k[0] == ' ' || k[0] == '"' || k[len(k)-1] == ' ' || strings.IndexFunc(k, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return strconv.Quote(k)
	}
	return k
}
