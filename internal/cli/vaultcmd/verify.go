package vaultcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/cofferbackup/coffer/internal/cli"
)

// errProblemsFound makes `vault verify` exit non-zero after its report.
var errProblemsFound = errors.New("problems found")

// verifyOutput is a verification job as DescribeVerificationJob answers
// (docs/api.md, "Verification jobs").
type verifyOutput struct {
	VerificationJobId      string
	BackupVaultName        string
	State                  string
	StatusMessage          string
	OK                     bool
	ReadDataPercent        float64
	Seed                   uint64
	RecoveryPoints         int64
	Records                int64
	Objects                int64
	Contents               int64
	Packs                  int64
	DeletedReferenced      int64
	ObjectsRead            int64
	BytesRead              int64
	ProblemCount           int64
	ProblemKinds           map[string]int64 `json:",omitempty"`
	AffectedRecoveryPoints []string         `json:",omitempty"`
	Problems               []struct {
		Kind, RecoveryPointID, RecoveryPointArn string
		Record                                  int64
		Object, Content, Pack                   string
		Detail                                  string
	} `json:",omitempty"`
}

// vaultVerify starts a verification job of one vault, waits for it
// (unless --no-wait) and prints its report; it fails when the job failed
// or found any problem, naming every affected recovery point.
func vaultVerify(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "vault verify", "NAME [--read-data PCT | --read-data-subset PCT] [--seed N] [--no-wait]", "one vault NAME")
	pct := c.FS.Float64("read-data", 0, "also read, decrypt and check `PCT` percent of the data (0 to 100)")
	subset := c.FS.Float64("read-data-subset", 0, "the same as --read-data (restic's name)")
	seed := c.FS.Uint64("seed", 0, "pick the data to read with seed `N` (0: at random; the report gives the seed used)")
	noWait := c.FS.Bool("no-wait", false, "start the job and print its id without waiting")
	var found *verifyOutput
	err := cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, name string) (*verifyOutput, error) {
		read := *pct
		if *subset != 0 {
			if read != 0 && read != *subset {
				return nil, fmt.Errorf("%w: give --read-data or --read-data-subset, not both", cli.ErrUsage)
			}
			read = *subset
		}
		var started struct{ VerificationJobId string }
		err := s.Extension(ctx, http.MethodPost, "/verification-jobs",
			map[string]any{"BackupVaultName": name, "ReadDataPercent": read, "Seed": *seed}, &started)
		if err != nil {
			return nil, cli.WrapAPI("verify vault "+name, err)
		}
		out := &verifyOutput{VerificationJobId: started.VerificationJobId, BackupVaultName: name, State: "CREATED"}
		if !*noWait {
			out, err = waitVerification(ctx, s, started.VerificationJobId)
		}
		found = out
		return out, err
	}, printVerify)
	switch {
	case err != nil || found == nil || *noWait:
		return err
	case found.State != "COMPLETED":
		return fmt.Errorf("verification job %s of vault %s ended %s: %s", found.VerificationJobId, found.BackupVaultName, found.State, found.StatusMessage)
	case !found.OK:
		return fmt.Errorf("vault %s: %d %w in recovery points %v", found.BackupVaultName, found.ProblemCount, errProblemsFound, found.AffectedRecoveryPoints)
	}
	return nil
}

// waitVerification polls verification job id until it ends.
func waitVerification(ctx context.Context, s *cli.Session, id string) (*verifyOutput, error) {
	tick := time.NewTicker(cli.PollInterval)
	defer tick.Stop()
	for {
		var out struct{ VerificationJob verifyOutput }
		if err := s.Extension(ctx, http.MethodGet, "/verification-jobs/"+url.PathEscape(id), struct{}{}, &out); err != nil {
			return nil, cli.WrapAPI("describe verification job "+id, err)
		}
		if cli.TerminalStates[out.VerificationJob.State] {
			return &out.VerificationJob, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("stopped waiting for verification job %s (the job goes on): %w", id, ctx.Err())
		case <-tick.C:
		}
	}
}

func printVerify(w io.Writer, out *verifyOutput, name string) error {
	var verdict string
	switch {
	case out.State != "COMPLETED" && !cli.TerminalStates[out.State]:
		fmt.Fprintf(w, "verification job %s of vault %s is %s\n", out.VerificationJobId, name, out.State)
		return nil
	case out.State != "COMPLETED":
		verdict = out.State + ": " + out.StatusMessage
	case out.OK:
		verdict = "clean"
	default:
		verdict = fmt.Sprintf("%d problems in %d recovery points", out.ProblemCount, len(out.AffectedRecoveryPoints))
	}
	fmt.Fprintf(w, "vault %s: %s\n", name, verdict)
	if err := cli.Fields(w, "Verification job", out.VerificationJobId, "Recovery points", out.RecoveryPoints, "Records", out.Records,
		"Objects", out.Objects, "Contents", out.Contents, "Packs", out.Packs, "Referenced contents marked deleted", out.DeletedReferenced,
		"Objects read", out.ObjectsRead, "Bytes read", out.BytesRead, "Read data percent", out.ReadDataPercent, "Seed", out.Seed); err != nil {
		return err
	}
	kinds := make([]string, 0, len(out.ProblemKinds))
	for k := range out.ProblemKinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Fprintf(w, "  %s: %d\n", k, out.ProblemKinds[k])
	}
	if len(out.AffectedRecoveryPoints) > 0 {
		fmt.Fprintln(w, "Affected recovery points:")
		for _, arn := range out.AffectedRecoveryPoints {
			fmt.Fprintf(w, "  %s\n", arn)
		}
	}
	if len(out.Problems) == 0 {
		return nil
	}
	t := cli.NewTable(w, "KIND", "RECOVERY POINT", "RECORD", "OBJECT", "CONTENT", "PACK", "DETAIL")
	for _, p := range out.Problems {
		t.Row(p.Kind, p.RecoveryPointID, p.Record, p.Object, p.Content, p.Pack, p.Detail)
	}
	if n := out.ProblemCount - int64(len(out.Problems)); n > 0 {
		fmt.Fprintf(w, "(%d more not listed)\n", n)
	}
	return t.Flush()
}
