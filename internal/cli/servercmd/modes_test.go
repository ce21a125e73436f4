//go:build unix

package servercmd_test

import (
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/cofferbackup/coffer/internal/cli"
	"github.com/cofferbackup/coffer/internal/cli/clitest"
	"github.com/cofferbackup/coffer/internal/cli/servercmd"
	"github.com/cofferbackup/coffer/internal/coffertest"
	"github.com/cofferbackup/coffer/internal/testserver"
)

// withUmask sets the process umask for the test (the tests of this
// package do not run in parallel).
func withUmask(t *testing.T, mask int) {
	old := syscall.Umask(mask)
	t.Cleanup(func() { syscall.Umask(old) })
}

// openToOthers walks dir and returns every entry (dir included) with a
// group or other permission bit, with its mode.
func openToOthers(t *testing.T, dir string) []string {
	t.Helper()
	var open []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode().Perm()&0o077 != 0 {
			rel, _ := filepath.Rel(dir, path)
			open = append(open, rel+" "+info.Mode().String())
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	return open
}

// TestDataDirPrivate: a server started with umask 022 on an existing data
// directory of mode 0755 makes it 0700, and nothing it then creates there
// (key, credentials, server.json, the catalog and its WAL, vaults, caches)
// is open to group or others, while it runs and after it stops. A vault
// on the file system keeps no cache (vault.TestVaultFilesPrivate checks
// the caches of a vault on S3).
func TestDataDirPrivate(t *testing.T) {
	withUmask(t, 0o022)
	for _, engine := range coffertest.Engines {
		t.Run(engine, func(t *testing.T) {
			env := map[string]string{"COFFER_DATABASE_URL": coffertest.Database(t, engine)}
			dataDir := filepath.Join(t.TempDir(), "data")
			if err := os.Mkdir(dataDir, 0o755); err != nil {
				t.Fatal(err)
			}
			endpoint, creds, s3, stop := clitest.StartServerIn(t, dataDir, env)
			if st, err := os.Stat(dataDir); err != nil || st.Mode().Perm() != 0o700 {
				t.Errorf("data dir after start: %v %v, want mode 0700", st.Mode(), err)
			}
			backupAndRestore(t, coffertest.NewClient(endpoint, creds), s3)
			want := []string{"master.key", "credentials.json", "events.token", "server.json", "vaults"}
			if engine == "sqlite" {
				want = append(want, "catalog.db", "catalog.db-wal", "catalog.db-shm")
			}
			for _, name := range want {
				if _, err := os.Stat(filepath.Join(dataDir, name)); err != nil {
					t.Errorf("the walk below misses %s: %v", name, err)
				}
			}
			if open := openToOthers(t, dataDir); len(open) > 0 {
				t.Errorf("while running, open to group or others:\n%s", strings.Join(open, "\n"))
			}
			stop()
			if open := openToOthers(t, dataDir); len(open) > 0 {
				t.Errorf("after stop, open to group or others:\n%s", strings.Join(open, "\n"))
			}
		})
	}
}

// backupAndRestore backs a bucket up into a new vault and restores it, so
// that the vault and the job's files exist.
func backupAndRestore(t *testing.T, c *backup.Client, s3 *testserver.Server) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("private")}); err != nil {
		t.Fatal(err)
	}
	mc := s3.Client(t)
	src := s3.NewBucket(t, true)
	want := coffertest.FillBucket(t, mc, src, "k/", 20, 4000)
	job, err := c.StartBackupJob(ctx, &backup.StartBackupJobInput{BackupVaultName: aws.String("private"),
		ResourceArn: aws.String("arn:aws:s3:::" + src), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x")})
	if err != nil {
		t.Fatal(err)
	}
	done := coffertest.WaitBackupJob(t, c, aws.ToString(job.BackupJobId))
	if done.State != types.BackupJobStateCompleted {
		t.Fatalf("backup: %s %s", done.State, aws.ToString(done.StatusMessage))
	}
	coffertest.CheckBucket(t, mc, coffertest.RestoreToNewBucket(t, c, aws.ToString(done.RecoveryPointArn)), want)
}

// TestServerRefusesExposedSecrets: `coffer server` does not start with a
// master key, credentials or events token file group or others can read
// or write, and says which file, its mode and the chmod that fixes it.
func TestServerRefusesExposedSecrets(t *testing.T) {
	withUmask(t, 0o022)
	key := strings.Repeat("ab", 32) + "\n"
	tests := []struct {
		name    string
		setup   func(t *testing.T, dataDir, keyFile string) // keyFile: COFFER_MASTER_KEY_FILE if made
		refused string                                      // the file named, "" when the server starts
		mode    string
	}{
		{name: "key file 0644", refused: "key", mode: "0644", setup: func(t *testing.T, _, keyFile string) {
			writeMode(t, keyFile, key, 0o644)
		}},
		{name: "key file 0660", refused: "key", mode: "0660", setup: func(t *testing.T, _, keyFile string) {
			writeMode(t, keyFile, key, 0o660)
		}},
		{name: "key file 0400", setup: func(t *testing.T, _, keyFile string) {
			writeMode(t, keyFile, key, 0o400)
		}},
		{name: "master.key 0640 in the data dir", refused: "master.key", mode: "0640", setup: func(t *testing.T, dataDir, _ string) {
			writeMode(t, filepath.Join(dataDir, "master.key"), key, 0o640)
		}},
		{name: "credentials.json 0644", refused: "credentials.json", mode: "0644", setup: func(t *testing.T, dataDir, keyFile string) {
			writeMode(t, keyFile, key, 0o600)
			writeMode(t, filepath.Join(dataDir, "credentials.json"), `{"access_key_id":"CFA","secret_access_key":"s"}`, 0o644)
		}},
		{name: "events.token 0644", refused: "events.token", mode: "0644", setup: func(t *testing.T, dataDir, keyFile string) {
			writeMode(t, keyFile, key, 0o600)
			writeMode(t, filepath.Join(dataDir, "events.token"), strings.Repeat("cd", 32)+"\n", 0o644)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "data")
			if err := os.Mkdir(dataDir, 0o700); err != nil {
				t.Fatal(err)
			}
			keyFile := filepath.Join(t.TempDir(), "key")
			tt.setup(t, dataDir, keyFile)
			files := map[string]string{"key": keyFile, "master.key": filepath.Join(dataDir, "master.key"),
				"credentials.json": filepath.Join(dataDir, "credentials.json"), "events.token": filepath.Join(dataDir, "events.token")}
			env := map[string]string{"COFFER_DATA_DIR": dataDir, "COFFER_LISTEN": "127.0.0.1:0"}
			if _, err := os.Stat(keyFile); err == nil {
				env["COFFER_MASTER_KEY_FILE"] = keyFile
			}
			cfg, err := servercmd.ParseConfig(nil, func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(cli.WithIO(context.Background(), io.Discard, io.Discard), time.Minute)
			defer cancel()
			err = servercmd.Serve(ctx, cfg, func(string) { cancel() })
			if tt.refused == "" {
				if err != nil {
					t.Fatalf("server refused to start: %v", err)
				}
				return
			}
			path := files[tt.refused]
			for _, want := range []string{path, "mode " + tt.mode, "chmod 600 " + path} {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("serve: %v; want an error saying %q", err, want)
				}
			}
		})
	}
}

func writeMode(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}
