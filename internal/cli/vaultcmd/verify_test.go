package vaultcmd

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cofferbackup/coffer/internal/cli/clitest"
	"github.com/cofferbackup/coffer/internal/cli/jobcmd"
)

// vaultPacks lists the data pack files (kopia's p blobs) under the vault
// directories of dataDir.
func vaultPacks(t *testing.T, dataDir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join(dataDir, "vaults"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dataDir, path)
		if parts := strings.Split(rel, string(filepath.Separator)); len(parts) > 3 && parts[2] == "repo" && strings.HasPrefix(parts[3], "p") {
			out = append(out, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestVaultVerifyCommand: `vault verify` runs a verification job and
// waits for it: a clean vault verifies clean (exit 0; --read-data-subset
// and --seed are taken, --no-wait only starts the job); once a pack file
// written by the second backup is deleted, it exits 1 naming that
// backup's recovery point ARN and not the first one, and the report names
// no object key.
func TestVaultVerifyCommand(t *testing.T) {
	dataDir := t.TempDir()
	// No periodic maintenance: its first run (soon after the start) may
	// rewrite the small packs this test deletes into one of its own.
	endpoint, creds, s3, _ := clitest.StartServerArgs(t, dataDir, nil, "--maintenance-interval", "-1s")
	e := clitest.NewEnv(t, endpoint, creds)
	c := s3.Client(t)
	e.Run("vault", "create", "vv")
	first, second := s3.NewBucket(t, true), s3.NewBucket(t, true)
	clitest.PutObjects(t, c, first, map[string]string{"secret-first.txt": strings.Repeat("first", 20_000)})
	clitest.PutObjects(t, c, second, map[string]string{"secret-second.txt": strings.Repeat("second", 20_000)})
	rpFirst := clitest.BackupAndWait(t, e, "vv", first, jobcmd.DefaultIAMRoleARN).RecoveryPointArn
	before := vaultPacks(t, dataDir)
	rpSecond := clitest.BackupAndWait(t, e, "vv", second, jobcmd.DefaultIAMRoleARN).RecoveryPointArn
	var added []string
	for _, p := range vaultPacks(t, dataDir) {
		if !slices.Contains(before, p) {
			added = append(added, p)
		}
	}
	if len(added) == 0 {
		t.Fatal("the second backup wrote no pack file")
	}

	var clean verifyOutput
	e.RunJSON(&clean, "vault", "verify", "vv", "--read-data", "100")
	if !clean.OK || clean.RecoveryPoints != 2 || clean.ObjectsRead != 2 || clean.BytesRead != 100_000+120_000 {
		t.Fatalf("clean vault: %+v", clean)
	}
	if out := e.Run("vault", "verify", "vv", "--read-data-subset", "50", "--seed", "7"); !strings.Contains(out, "vault vv: clean") ||
		!strings.Contains(out, "Seed:") || !strings.Contains(out, " 7\n") {
		t.Fatalf("clean vault, human output:\n%s", out)
	}
	if out := e.Run("vault", "verify", "vv", "--no-wait"); !strings.Contains(out, "verification job ") || !strings.Contains(out, " of vault vv is CREATED") {
		t.Fatalf("--no-wait:\n%s", out)
	}

	for _, p := range added {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	out, errOut := e.Fail("vault", "verify", "vv")
	idOf := func(arn string) string { return arn[strings.LastIndex(arn, ":")+1:] }
	if !strings.Contains(out, idOf(rpSecond)) || strings.Contains(out, idOf(rpFirst)) || !strings.Contains(out, "missing-pack") ||
		!strings.Contains(errOut, "problems found") || !strings.Contains(errOut, rpSecond) || strings.Contains(errOut, rpFirst) ||
		!strings.Contains(out, "Affected recovery points:\n  "+rpSecond+"\n") {
		t.Fatalf("vault with a deleted pack:\nstdout:\n%s\nstderr:\n%s", out, errOut)
	}
	jsonOut, _ := e.Fail("vault", "verify", "vv", "--json")
	if strings.Contains(out+jsonOut, "secret-") || strings.Contains(out+jsonOut, dataDir) {
		t.Fatalf("the report names a key or a path:\n%s\n%s", out, jsonOut)
	}
	if !strings.Contains(jsonOut, `"AffectedRecoveryPoints": [`) {
		t.Fatalf("--json report:\n%s", jsonOut)
	}
}
