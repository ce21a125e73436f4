package clitest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/cofferbackup/coffer/internal/auth"
	"github.com/cofferbackup/coffer/internal/cli"
	"github.com/cofferbackup/coffer/internal/cli/servercmd"
	"github.com/cofferbackup/coffer/internal/coffertest"
	"github.com/cofferbackup/coffer/internal/testserver"
)

// StartServer runs `coffer server` in-process on a free loopback port with a
// shared MinIO as its default S3 connection, until the test ends.
func StartServer(t *testing.T) (endpoint string, creds auth.Credentials, s3 *testserver.Server) {
	t.Helper()
	return StartServerEnv(t, nil)
}

// StartServerEnv is StartServer with more environment (COFFER_DATABASE_URL).
func StartServerEnv(t *testing.T, extra map[string]string) (endpoint string, creds auth.Credentials, s3 *testserver.Server) {
	t.Helper()
	endpoint, creds, s3, _ = StartServerIn(t, t.TempDir(), extra)
	return endpoint, creds, s3
}

// StartServerIn is StartServerEnv on dataDir; stop stops the server (it
// also stops when the test ends).
func StartServerIn(t *testing.T, dataDir string, extra map[string]string) (endpoint string, creds auth.Credentials, s3 *testserver.Server, stop func()) {
	t.Helper()
	return StartServerArgs(t, dataDir, extra)
}

// StartServerArgs is StartServerIn with `coffer server` flags.
func StartServerArgs(t *testing.T, dataDir string, extra map[string]string, args ...string) (endpoint string, creds auth.Credentials, s3 *testserver.Server, stop func()) {
	t.Helper()
	s3 = testserver.Shared(t, testserver.MinIO)
	env := map[string]string{
		"COFFER_DATA_DIR": dataDir, "COFFER_LISTEN": "127.0.0.1:0",
		"COFFER_S3_ENDPOINT": s3.Endpoint, "COFFER_S3_ACCESS_KEY": s3.AccessKey, "COFFER_S3_SECRET_KEY": s3.SecretKey,
	}
	maps.Copy(env, extra)
	cfg, err := servercmd.ParseConfig(args, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(cli.WithIO(context.Background(), io.Discard, io.Discard))
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- servercmd.Serve(ctx, cfg, func(ep string) { ready <- ep }) }()
	select {
	case endpoint = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("coffer server did not start: %v", err)
	case <-time.After(time.Minute):
		cancel()
		t.Fatal("coffer server did not start within a minute")
	}
	stop = sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("coffer server: %v", err)
		}
	})
	t.Cleanup(stop)
	creds, err = auth.ReadCredentialsFile(filepath.Join(dataDir, "credentials.json"))
	if err != nil {
		t.Fatalf("server wrote no credentials: %v", err)
	}
	if ep, err := cli.ReadServerInfo(dataDir); err != nil || ep != endpoint {
		t.Fatalf("server.json holds %q (%v), want %q", ep, err, endpoint)
	}
	return endpoint, creds, s3, stop
}

// Env runs commands in-process against one server.
type Env struct {
	t      *testing.T
	common []string
}

// NewEnv runs commands against the server at endpoint with creds, polling
// jobs every 20 ms (--wait) until the test ends.
func NewEnv(t *testing.T, endpoint string, creds auth.Credentials) *Env {
	old := cli.PollInterval
	cli.PollInterval = 20 * time.Millisecond
	t.Cleanup(func() { cli.PollInterval = old })
	return &Env{t: t, common: []string{
		"--endpoint", endpoint, "--access-key-id", creds.AccessKeyID,
		"--secret-access-key", creds.SecretAccessKey, "--data-dir", t.TempDir(),
	}}
}

// exec runs one command and returns its exit code and output.
func (e *Env) exec(args ...string) (code int, stdout, stderr string) {
	e.t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	code = cli.Main(ctx, append(args, e.common...), &out, &errOut)
	return code, out.String(), errOut.String()
}

// Run runs one command and fails the test when it does not exit 0.
func (e *Env) Run(args ...string) string {
	e.t.Helper()
	out, _ := e.expect(0, args...)
	return out
}

// RunJSON runs a command with --json, decodes its output into v and
// returns stderr.
func (e *Env) RunJSON(v any, args ...string) string {
	e.t.Helper()
	out, errOut := e.expect(0, append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		e.t.Fatalf("coffer %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
	return errOut
}

// Fail runs a command that must exit 1 and returns its output.
func (e *Env) Fail(args ...string) (stdout, stderr string) {
	e.t.Helper()
	return e.expect(1, args...)
}

// expect runs a command, fails the test when it does not exit with code
// and returns its output.
func (e *Env) expect(code int, args ...string) (stdout, stderr string) {
	e.t.Helper()
	got, out, errOut := e.exec(args...)
	if got != code {
		e.t.Fatalf("coffer %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), got, code, out, errOut)
	}
	return out, errOut
}

// NewEnvFor is NewEnv for a server started by coffertest.
func NewEnvFor(t *testing.T, e *coffertest.Env) *Env {
	return NewEnv(t, e.Endpoint, e.Creds)
}

// PutObjects writes objs (key: content) into bucket.
func PutObjects(t *testing.T, c *minio.Client, bucket string, objs map[string]string) {
	t.Helper()
	for k, v := range objs {
		_, err := c.PutObject(context.Background(), bucket, k, strings.NewReader(v), int64(len(v)),
			minio.PutObjectOptions{ContentType: "text/plain"})
		if err != nil {
			t.Fatalf("put %s/%s: %v", bucket, k, err)
		}
	}
}

// JobJSON holds the members the tests read of a backup or restore job
// printed with --json.
type JobJSON struct {
	BackupJobId, RestoreJobId, State, Status, RecoveryPointArn, StatusMessage, IamRoleArn string
	BackupOptions                                                                         map[string]string
}

// BackupAndWait backs src up with `backup start --wait --json` and checks
// the output: the final job as JSON on stdout, progress on stderr, and
// the request as sent (`backup describe`), with the IAM role wantRole
// (the default of `backup start`, jobcmd.DefaultIAMRoleARN).
func BackupAndWait(t *testing.T, e *Env, vault, src, wantRole string) JobJSON {
	t.Helper()
	var job JobJSON
	progress := e.RunJSON(&job, "backup", "start", "--vault", vault, "--bucket", src, "--no-tags", "--wait")
	if job.State != "COMPLETED" || job.RecoveryPointArn == "" {
		t.Fatalf("backup job = %+v", job)
	}
	lines := strings.Split(strings.TrimSpace(progress), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "backup job "+job.BackupJobId+": COMPLETED") {
		t.Errorf("last progress line on stderr = %q, want the job COMPLETED\n%s", last, progress)
	}
	for i := 1; i < len(lines); i++ {
		if lines[i] == lines[i-1] {
			t.Errorf("unchanged status printed twice: %q", lines[i])
		}
	}
	var desc JobJSON
	e.RunJSON(&desc, "backup", "describe", job.BackupJobId)
	if desc.IamRoleArn != wantRole || !reflect.DeepEqual(desc.BackupOptions, map[string]string{"BackupObjectTags": "disabled"}) {
		t.Errorf("backup describe = %+v, want the default IAM role and BackupObjectTags disabled", desc)
	}
	out := e.Run("backup", "describe", job.BackupJobId)
	for _, w := range []string{"State:", "COMPLETED", "Percent done:", "100%", "Backup options:", "BackupObjectTags=disabled"} {
		if !strings.Contains(out, w) {
			t.Errorf("backup describe lacks %q:\n%s", w, out)
		}
	}
	return job
}

// SameSet reports whether a and b hold the same strings, in any order.
func SameSet(a, b []string) bool {
	return reflect.DeepEqual(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}
