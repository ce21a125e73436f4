package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"time"
)

// verifyTimeout bounds a verification call: it answers when the whole
// vault is checked, which with --read-data 100 reads all of it.
const verifyTimeout = 24 * time.Hour

// errProblemsFound makes `vault verify` exit non-zero after its report.
var errProblemsFound = errors.New("problems found")

// verifyOutput is the answer of the verification extension (docs/api.md).
type verifyOutput struct {
	BackupVaultName        string
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
		Kind, RecoveryPointID string
		Record                int64
		Object, Content, Pack string
		Detail                string
	} `json:",omitempty"`
}

func vaultVerify(ctx context.Context, args []string) error {
	c := newClientCmd(ctx, "vault verify", "NAME [--read-data PCT] [--seed N]", "one vault NAME")
	pct := c.fs.Float64("read-data", 0, "also read, decrypt and check `PCT` percent of the data (0 to 100)")
	seed := c.fs.Uint64("seed", 0, "pick the data to read with seed `N` (0: at random; the report gives the seed used)")
	var found *verifyOutput
	err := callAndShow(c, args, func(ctx context.Context, s *session, name string) (*verifyOutput, error) {
		var out verifyOutput
		err := s.extensionWithin(ctx, verifyTimeout, http.MethodPost, "/backup-vaults/"+url.PathEscape(name)+"/verification",
			map[string]any{"ReadDataPercent": *pct, "Seed": *seed}, &out)
		found = &out
		return &out, wrapAPI("verify vault "+name, err)
	}, printVerify)
	if err == nil && found != nil && !found.OK {
		return fmt.Errorf("vault %s: %d %w", found.BackupVaultName, found.ProblemCount, errProblemsFound)
	}
	return err
}

func printVerify(w io.Writer, out *verifyOutput, name string) error {
	verdict := "clean"
	if !out.OK {
		verdict = fmt.Sprintf("%d problems in %d recovery points", out.ProblemCount, len(out.AffectedRecoveryPoints))
	}
	fmt.Fprintf(w, "vault %s: %s\n", name, verdict)
	if err := fields(w, "Recovery points", out.RecoveryPoints, "Records", out.Records, "Objects", out.Objects,
		"Contents", out.Contents, "Packs", out.Packs, "Referenced contents marked deleted", out.DeletedReferenced, "Objects read", out.ObjectsRead, "Bytes read", out.BytesRead,
		"Read data percent", out.ReadDataPercent, "Seed", out.Seed); err != nil {
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
	if len(out.Problems) == 0 {
		return nil
	}
	t := newTable(w, "KIND", "RECOVERY POINT", "RECORD", "OBJECT", "CONTENT", "PACK", "DETAIL")
	for _, p := range out.Problems {
		t.row(p.Kind, p.RecoveryPointID, p.Record, p.Object, p.Content, p.Pack, p.Detail)
	}
	if n := out.ProblemCount - int64(len(out.Problems)); n > 0 {
		fmt.Fprintf(w, "(%d more not listed)\n", n)
	}
	return t.flush()
}
