// End-to-end test of the client commands against a real coffer server
// (startServer, server_test.go) and a real S3 server.

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/cofferbackup/coffer/internal/auth"
	"github.com/cofferbackup/coffer/internal/cli"
	"github.com/cofferbackup/coffer/internal/cli/jobcmd"
	"github.com/cofferbackup/coffer/internal/testserver"
)

// cliEnv runs commands in-process against one server.
type cliEnv struct {
	t      *testing.T
	common []string
}

func newCLIEnv(t *testing.T, endpoint string, creds auth.Credentials) *cliEnv {
	old := cli.PollInterval
	cli.PollInterval = 20 * time.Millisecond
	t.Cleanup(func() { cli.PollInterval = old })
	return &cliEnv{t: t, common: []string{
		"--endpoint", endpoint, "--access-key-id", creds.AccessKeyID,
		"--secret-access-key", creds.SecretAccessKey, "--data-dir", t.TempDir(),
	}}
}

// exec runs one command and returns its exit code and output.
func (e *cliEnv) exec(args ...string) (code int, stdout, stderr string) {
	e.t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	code = cli.Main(ctx, append(args, e.common...), &out, &errOut)
	return code, out.String(), errOut.String()
}

// run runs one command and fails the test when it does not exit 0.
func (e *cliEnv) run(args ...string) string {
	e.t.Helper()
	out, _ := e.expect(0, args...)
	return out
}

// runJSON runs a command with --json, decodes its output into v and
// returns stderr.
func (e *cliEnv) runJSON(v any, args ...string) string {
	e.t.Helper()
	out, errOut := e.expect(0, append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		e.t.Fatalf("coffer %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
	return errOut
}

// fail runs a command that must exit 1 and returns its output.
func (e *cliEnv) fail(args ...string) (stdout, stderr string) {
	e.t.Helper()
	return e.expect(1, args...)
}

// expect runs a command, fails the test when it does not exit with code
// and returns its output.
func (e *cliEnv) expect(code int, args ...string) (stdout, stderr string) {
	e.t.Helper()
	got, out, errOut := e.exec(args...)
	if got != code {
		e.t.Fatalf("coffer %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), got, code, out, errOut)
	}
	return out, errOut
}

func putObjects(t *testing.T, c *minio.Client, bucket string, objs map[string]string) {
	t.Helper()
	for k, v := range objs {
		_, err := c.PutObject(context.Background(), bucket, k, strings.NewReader(v), int64(len(v)),
			minio.PutObjectOptions{ContentType: "text/plain"})
		if err != nil {
			t.Fatalf("put %s/%s: %v", bucket, k, err)
		}
	}
}

// readBucket returns the latest content of every object in bucket.
func readBucket(t *testing.T, c *minio.Client, bucket string) map[string]string {
	t.Helper()
	ctx := context.Background()
	got := map[string]string{}
	for oi := range c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
		if oi.Err != nil {
			t.Fatalf("list %s: %v", bucket, oi.Err)
		}
		obj, err := c.GetObject(ctx, bucket, oi.Key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatalf("get %s/%s: %v", bucket, oi.Key, err)
		}
		data, err := io.ReadAll(obj)
		obj.Close()
		if err != nil {
			t.Fatalf("read %s/%s: %v", bucket, oi.Key, err)
		}
		got[oi.Key] = string(data)
	}
	return got
}

func sameObjects(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d objects, want %d: %v", what, len(got), len(want), keysOf(got))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: object %q = %q, want %q", what, k, got[k], v)
		}
	}
}

func keysOf(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

type jobJSON struct {
	BackupJobId, RestoreJobId, State, Status, RecoveryPointArn, StatusMessage, IamRoleArn string
	BackupOptions                                                                         map[string]string
}

type rpListJSON struct {
	RecoveryPoints []struct{ RecoveryPointArn, Status, ResourceArn string }
}

func TestCLIEndToEnd(t *testing.T) {
	endpoint, creds, s3 := startServer(t)
	e := newCLIEnv(t, endpoint, creds)
	c := s3.Client(t)

	vault := testserver.UniqueBucketName("vault")
	e.run("vault", "create", vault, "--tag", "purpose=e2e")
	if out := e.run("vault", "list"); !strings.Contains(out, vault) {
		t.Fatalf("vault list lacks %s:\n%s", vault, out)
	}

	src := s3.NewBucket(t, true)
	want := map[string]string{
		"readme.txt":         "hello",
		"docs/a.txt":         "alpha",
		"docs/deep/b.txt":    "beta",
		"data/space key.bin": strings.Repeat("x", 200_000),
		"data/unicode-é.txt": "ü",
		"overwritten.txt":    "v1",
	}
	putObjects(t, c, src, want)
	want["overwritten.txt"] = "v2"
	putObjects(t, c, src, map[string]string{"overwritten.txt": "v2"})

	job := backupAndWait(t, e, vault, src)
	var jobs struct{ BackupJobs []jobJSON }
	e.runJSON(&jobs, "backup", "list", "--vault", vault, "--resource-arn", "arn:aws:s3:::"+src)
	if len(jobs.BackupJobs) != 1 || jobs.BackupJobs[0].BackupJobId != job.BackupJobId {
		t.Errorf("backup list = %+v, want job %s", jobs, job.BackupJobId)
	}

	var rps rpListJSON
	e.runJSON(&rps, "recovery-point", "list", "--vault", vault)
	if len(rps.RecoveryPoints) != 1 || rps.RecoveryPoints[0].RecoveryPointArn != job.RecoveryPointArn ||
		rps.RecoveryPoints[0].ResourceArn != "arn:aws:s3:::"+src {
		t.Fatalf("recovery points = %+v, want %s", rps, job.RecoveryPointArn)
	}
	rpArn := job.RecoveryPointArn
	var rp struct{ RecoveryPointArn, Status string }
	e.runJSON(&rp, "recovery-point", "describe", "--vault", vault, rpArn)
	if rp.RecoveryPointArn != rpArn || rp.Status != "COMPLETED" {
		t.Errorf("recovery point = %+v", rp)
	}

	rj := restoreAndWait(t, e, c, rpArn, src, want)
	var restores struct{ RestoreJobs []jobJSON }
	e.runJSON(&restores, "restore", "list")
	found := false
	for _, r := range restores.RestoreJobs {
		found = found || r.RestoreJobId == rj.RestoreJobId
	}
	if !found {
		t.Errorf("restore list lacks %s: %+v", rj.RestoreJobId, restores)
	}
	if out := e.run("restore", "describe", rj.RestoreJobId); !strings.Contains(out, "COMPLETED") {
		t.Errorf("restore describe:\n%s", out)
	}

	e.run("recovery-point", "delete", "--vault", vault, rpArn)
	waitNoRecoveryPoints(t, e, vault)
	e.run("vault", "delete", vault)
	if out := e.run("vault", "list"); strings.Contains(out, vault) {
		t.Errorf("vault %s still listed after delete:\n%s", vault, out)
	}
}

// backupAndWait backs src up with `backup start --wait --json` and checks
// the output: the final job as JSON on stdout, progress on stderr, and
// the request as sent (`backup describe`).
func backupAndWait(t *testing.T, e *cliEnv, vault, src string) jobJSON {
	t.Helper()
	var job jobJSON
	progress := e.runJSON(&job, "backup", "start", "--vault", vault, "--bucket", src, "--no-tags", "--wait")
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
	var desc jobJSON
	e.runJSON(&desc, "backup", "describe", job.BackupJobId)
	if desc.IamRoleArn != jobcmd.DefaultIAMRoleARN || !reflect.DeepEqual(desc.BackupOptions, map[string]string{"BackupObjectTags": "disabled"}) {
		t.Errorf("backup describe = %+v, want the default IAM role and BackupObjectTags disabled", desc)
	}
	out := e.run("backup", "describe", job.BackupJobId)
	for _, w := range []string{"State:", "COMPLETED", "Percent done:", "100%", "Backup options:", "BackupObjectTags=disabled"} {
		if !strings.Contains(out, w) {
			t.Errorf("backup describe lacks %q:\n%s", w, out)
		}
	}
	return job
}

// restoreAndWait restores the recovery point rpArn of src twice with
// --wait: all versions of everything into a new bucket (as JSON), then one
// prefix into another (for humans). It returns the first restore job.
func restoreAndWait(t *testing.T, e *cliEnv, c *minio.Client, rpArn, src string, want map[string]string) jobJSON {
	t.Helper()
	dst := testserver.UniqueBucketName("restore")
	var rj jobJSON
	e.runJSON(&rj, "restore", "start", "--recovery-point", rpArn, "--dest-bucket", dst, "--new-bucket", "--versions", "all", "--wait")
	if rj.Status != "COMPLETED" {
		t.Fatalf("restore job = %+v", rj)
	}
	sameObjects(t, "full restore", readBucket(t, c, dst), want)
	if n := countVersions(t, c, dst, "overwritten.txt"); n != 2 {
		t.Errorf("--versions all restored %d versions of overwritten.txt, want 2", n)
	}

	dst2 := testserver.UniqueBucketName("restore-prefix")
	var pv jobcmd.RestorePreview
	e.runJSON(&pv, "restore", "preview", rpArn, "--bucket", dst2, "--new-bucket", "--item", "s3://"+src+"/docs/")
	if pv.Write.Count != 2 || !reflect.DeepEqual(pv.Write.Keys, []string{"docs/a.txt", "docs/deep/b.txt"}) || pv.Skip.Count != 0 ||
		pv.RestoreMode != "restore" || pv.BytesToWrite != int64(len("alpha")+len("beta")) {
		t.Errorf("restore preview = %+v", pv)
	}
	if out := e.run("restore", "preview", rpArn, "--bucket", dst2, "--new-bucket", "--item", "s3://"+src+"/docs/"); !strings.Contains(out, "Write (2):\n  docs/a.txt\n  docs/deep/b.txt\n") {
		t.Errorf("restore preview output:\n%s", out)
	}
	out := e.run("restore", "start", "--recovery-point", rpArn, "--dest-bucket", dst2, "--new-bucket",
		"--item", "s3://"+src+"/docs/", "--wait")
	sameObjects(t, "prefix restore", readBucket(t, c, dst2), map[string]string{"docs/a.txt": "alpha", "docs/deep/b.txt": "beta"})
	if !regexp.MustCompile(`(?m)^restore job \S+: COMPLETED`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^Created resource: +arn:aws:s3:::`+dst2+`$`).MatchString(out) {
		t.Errorf("restore start --wait output lacks the final progress line or the restored job:\n%s", out)
	}
	return rj
}

func countVersions(t *testing.T, c *minio.Client, bucket, key string) int {
	t.Helper()
	n := 0
	for oi := range c.ListObjects(context.Background(), bucket, minio.ListObjectsOptions{Prefix: key, WithVersions: true}) {
		if oi.Err != nil {
			t.Fatalf("list versions in %s: %v", bucket, oi.Err)
		}
		if oi.Key == key && !oi.IsDeleteMarker {
			n++
		}
	}
	return n
}

// waitNoRecoveryPoints waits until the vault lists no recovery point
// (deletion may finish in the background).
func waitNoRecoveryPoints(t *testing.T, e *cliEnv, vault string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var rps rpListJSON
		e.runJSON(&rps, "recovery-point", "list", "--vault", vault)
		if len(rps.RecoveryPoints) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("recovery points still listed after delete: %+v", rps)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestCLIPagingAndErrors covers the list commands across several pages,
// their filters, a backup that fails under --wait and API errors.
func TestCLIPagingAndErrors(t *testing.T) {
	endpoint, creds, s3 := startServer(t)
	e := newCLIEnv(t, endpoint, creds)
	old := cli.ListPageSize
	cli.ListPageSize = 2
	t.Cleanup(func() { cli.ListPageSize = old })

	missing := testserver.UniqueBucketName("missing")
	if _, errOut := e.fail("vault", "describe", missing); !strings.Contains(errOut, "coffer: describe vault "+missing+": ResourceNotFoundException: ") {
		t.Errorf("API error not printed as op: code: message:\n%s", errOut)
	}

	vault := testserver.UniqueBucketName("vault")
	for _, v := range []string{vault, vault + "-b", vault + "-c"} {
		e.run("vault", "create", v)
	}
	var vaults struct {
		BackupVaultList []struct{ BackupVaultName string }
	}
	if e.runJSON(&vaults, "vault", "list"); len(vaults.BackupVaultList) != 3 {
		t.Errorf("vault list over pages of 2 = %+v, want 3 vaults", vaults)
	}

	src := s3.NewBucket(t, false)
	putObjects(t, s3.Client(t), src, map[string]string{"a": "1", "b": "2"})
	var ids []string
	for range 3 {
		var job jobJSON
		e.runJSON(&job, "backup", "start", "--vault", vault, "--bucket", src, "--wait")
		ids = append(ids, job.BackupJobId)
	}
	failedID := failedBackup(t, e, vault, missing)

	var all struct{ BackupJobs []jobJSON }
	e.runJSON(&all, "backup", "list", "--vault", vault)
	if got := jobIDs(all.BackupJobs); !sameSet(got, append(ids, failedID)) {
		t.Errorf("backup list over pages of 2 = %q, want %q and %s", got, ids, failedID)
	}
	filters := map[string][]string{
		"--state FAILED":                     {failedID},
		"--resource-arn arn:aws:s3:::" + src: ids,
		"--created-after " + time.Now().Add(time.Hour).UTC().Format(time.RFC3339):  {},
		"--created-before " + time.Now().Add(time.Hour).UTC().Format(time.RFC3339): append(ids, failedID),
	}
	for f, want := range filters {
		var got struct{ BackupJobs []jobJSON }
		e.runJSON(&got, append([]string{"backup", "list", "--vault", vault}, strings.SplitN(f, " ", 2)...)...)
		if !sameSet(jobIDs(got.BackupJobs), want) {
			t.Errorf("backup list %s = %q, want %q", f, jobIDs(got.BackupJobs), want)
		}
	}
	table := e.run("backup", "list", "--vault", vault)
	if lines := strings.Split(strings.TrimSpace(table), "\n"); len(lines) != 5 || !strings.HasPrefix(lines[0], "JOB ID") ||
		!strings.Contains(table, failedID) || !strings.Contains(table, "FAILED") || !strings.Contains(table, "COMPLETED") {
		t.Errorf("backup list table:\n%s", table)
	}

	var rps rpListJSON
	if e.runJSON(&rps, "recovery-point", "list", "--vault", vault); len(rps.RecoveryPoints) != 3 {
		t.Errorf("recovery-point list over pages of 2 = %+v, want 3", rps)
	}
	if _, errOut := e.fail("restore", "describe", "no-such-job"); !strings.Contains(errOut, "ResourceNotFoundException") {
		t.Errorf("restore describe of a missing job:\n%s", errOut)
	}
}

// failedBackup backs up a bucket that does not exist with --wait: the job
// fails, the command exits 1 with the status message and prints the job.
func failedBackup(t *testing.T, e *cliEnv, vault, bucket string) string {
	t.Helper()
	out, errOut := e.fail("backup", "start", "--vault", vault, "--bucket", bucket, "--wait")
	m := regexp.MustCompile(`(?m)^Job ID: +(\S+)$`).FindStringSubmatch(out)
	if m == nil || !regexp.MustCompile(`(?m)^State: +FAILED$`).MatchString(out) {
		t.Fatalf("failed job not printed:\n%s", out)
	}
	msg := regexp.MustCompile(`(?m)^Status message: +(.+)$`).FindStringSubmatch(out)
	if msg == nil || !strings.Contains(errOut, "coffer: backup job "+m[1]+" ended FAILED: "+msg[1]) {
		t.Errorf("stderr lacks the status message:\nstdout:\n%s\nstderr:\n%s", out, errOut)
	}
	return m[1]
}

func jobIDs(jobs []jobJSON) []string {
	ids := []string{}
	for _, j := range jobs {
		ids = append(ids, j.BackupJobId)
	}
	return ids
}

func sameSet(a, b []string) bool {
	return reflect.DeepEqual(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}
