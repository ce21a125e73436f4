package jobcmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/cofferbackup/coffer/internal/cli"
)

func init() {
	cli.RegisterGroup("maintenance", "list, describe, stop and start vault maintenance jobs", []cli.Subcommand{
		{Name: "list", Args: "[--vault V] [--state S]", Summary: "list maintenance jobs, newest first", Run: maintenanceList},
		{Name: "describe", Args: "ID", Summary: "show a maintenance job and what it reclaimed", Run: maintenanceDescribe},
		{Name: "stop", Args: "ID", Summary: "stop a queued or running maintenance job", Run: maintenanceStop},
		{Name: "start", Args: "--vault V", Summary: "queue maintenance of a vault now", Run: maintenanceStart},
	})
}

// maintenanceJob is a maintenance job as the extension answers it
// (docs/api.md), its epoch-second dates as times.
type maintenanceJob struct {
	MaintenanceJobId string
	BackupVaultName  string
	BackupVaultArn   string
	State            string
	StatusMessage    string
	Trigger          string
	CreationDate     *time.Time
	InitiationDate   *time.Time
	CompletionDate   *time.Time
	ProcessId        string
	MaintenanceStats map[string]any // the vault engine's counters (and its owner, times)
}

func (j *maintenanceJob) UnmarshalJSON(data []byte) error {
	type plain maintenanceJob // without this method
	var wire struct {
		plain
		CreationDate, InitiationDate, CompletionDate *float64
	}
	if err := json.Unmarshal(data, &wire); err != nil {
		return err
	}
	*j = maintenanceJob(wire.plain)
	j.CreationDate, j.InitiationDate, j.CompletionDate = epochTime(wire.CreationDate), epochTime(wire.InitiationDate), epochTime(wire.CompletionDate)
	return nil
}

func epochTime(sec *float64) *time.Time {
	if sec == nil {
		return nil
	}
	t := time.UnixMilli(int64(*sec * 1000)).UTC()
	return &t
}

func maintenanceList(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "maintenance list", "[--vault V] [--state S]", "")
	vault := c.FS.String("vault", "", "only jobs of the backup vault `NAME`")
	state := c.FS.String("state", "", "only jobs in `STATE` (CREATED, RUNNING, ABORTED, COMPLETED, FAILED)")
	return cli.ListAndShow(c, args, "MaintenanceJobs", func(ctx context.Context, s *cli.Session) ([]maintenanceJob, error) {
		q := url.Values{}
		if *vault != "" {
			q.Set("backupVaultName", *vault)
		}
		if *state != "" {
			q.Set("state", *state)
		}
		if n := cli.PageSize(); n != nil {
			q.Set("maxResults", fmt.Sprint(*n))
		}
		all := []maintenanceJob{}
		for {
			var page struct {
				MaintenanceJobs []maintenanceJob
				NextToken       string
			}
			if err := s.Extension(ctx, http.MethodGet, "/maintenance-jobs?"+q.Encode(), struct{}{}, &page); err != nil {
				return nil, cli.WrapAPI("list maintenance jobs", err)
			}
			all = append(all, page.MaintenanceJobs...)
			if page.NextToken == "" {
				return all, nil
			}
			q.Set("nextToken", page.NextToken)
		}
	}, []string{"JOB", "VAULT", "STATE", "TRIGGER", "CREATED", "COMPLETED", "FREED"}, func(j maintenanceJob) []any {
		var freed *int64
		if n, ok := j.MaintenanceStats["FreedBytes"].(float64); ok {
			b := int64(n)
			freed = &b
		}
		return []any{j.MaintenanceJobId, j.BackupVaultName, j.State, j.Trigger, j.CreationDate, j.CompletionDate, cli.HumanBytes(freed)}
	})
}

func maintenanceDescribe(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "maintenance describe", "ID", "one maintenance job ID")
	return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, id string) (*maintenanceJob, error) {
		var out maintenanceJob
		err := s.Extension(ctx, http.MethodGet, "/maintenance-jobs/"+url.PathEscape(id), struct{}{}, &out)
		return &out, cli.WrapAPI("describe maintenance job "+id, err)
	}, func(w io.Writer, j *maintenanceJob, _ string) error {
		return showMaintenanceJob(w, j)
	})
}

func showMaintenanceJob(w io.Writer, j *maintenanceJob) error {
	if err := cli.Fields(w, "Job", &j.MaintenanceJobId, "Vault", &j.BackupVaultName, "State", &j.State, "Message", &j.StatusMessage,
		"Trigger", &j.Trigger, "Created", j.CreationDate, "Started", j.InitiationDate, "Completed", j.CompletionDate,
		"Process", &j.ProcessId); err != nil {
		return err
	}
	names := make([]string, 0, len(j.MaintenanceStats))
	for k := range j.MaintenanceStats {
		names = append(names, k)
	}
	sort.Strings(names)
	kv := make([]any, 0, 2*len(names))
	for _, k := range names {
		kv = append(kv, "  "+k, statCell(j.MaintenanceStats[k]))
	}
	if len(kv) > 0 {
		fmt.Fprintln(w, "Stats:")
	}
	return cli.Fields(w, kv...)
}

func maintenanceStop(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "maintenance stop", "ID", "one maintenance job ID")
	return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, id string) (*struct{}, error) {
		var out struct{}
		err := s.Extension(ctx, http.MethodPost, "/maintenance-jobs/"+url.PathEscape(id), struct{}{}, &out)
		return &out, cli.WrapAPI("stop maintenance job "+id, err)
	}, cli.Say[*struct{}]("stopping maintenance job %s"))
}

func maintenanceStart(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "maintenance start", "--vault V", "")
	vault := cli.VaultFlag(c)
	return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, _ string) (*maintenanceJob, error) {
		var out maintenanceJob
		err := s.Extension(ctx, http.MethodPut, "/maintenance-jobs", map[string]string{"BackupVaultName": *vault}, &out)
		return &out, cli.WrapAPI("start maintenance of vault "+*vault, err)
	}, func(w io.Writer, j *maintenanceJob, _ string) error {
		fmt.Fprintf(w, "maintenance job %s of vault %s is %s\n", j.MaintenanceJobId, j.BackupVaultName, j.State)
		return nil
	})
}

// statCell prints a JSON number that is a whole number without an
// exponent (counters), anything else as it is.
func statCell(v any) string {
	if f, ok := v.(float64); ok && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return strconv.FormatInt(int64(f), 10)
	}
	return fmt.Sprint(v)
}
