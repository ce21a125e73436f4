// End-to-end test of the client commands against a real coffer server
// (clitest.StartServer) and a real S3 server.

package jobcmd

import (
	"context"
	"io"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/cofferbackup/coffer/internal/cli"
	"github.com/cofferbackup/coffer/internal/cli/clitest"
	"github.com/cofferbackup/coffer/internal/testserver"
)

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

type rpListJSON struct {
	RecoveryPoints []struct{ RecoveryPointArn, Status, ResourceArn string }
}

func TestCLIEndToEnd(t *testing.T) {
	endpoint, creds, s3 := clitest.StartServer(t)
	e := clitest.NewEnv(t, endpoint, creds)
	c := s3.Client(t)

	vault := testserver.UniqueBucketName("vault")
	e.Run("vault", "create", vault, "--tag", "purpose=e2e")
	if out := e.Run("vault", "list"); !strings.Contains(out, vault) {
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
	clitest.PutObjects(t, c, src, want)
	want["overwritten.txt"] = "v2"
	clitest.PutObjects(t, c, src, map[string]string{"overwritten.txt": "v2"})

	job := clitest.BackupAndWait(t, e, vault, src, DefaultIAMRoleARN)
	var jobs struct{ BackupJobs []clitest.JobJSON }
	e.RunJSON(&jobs, "backup", "list", "--vault", vault, "--resource-arn", "arn:aws:s3:::"+src)
	if len(jobs.BackupJobs) != 1 || jobs.BackupJobs[0].BackupJobId != job.BackupJobId {
		t.Errorf("backup list = %+v, want job %s", jobs, job.BackupJobId)
	}

	var rps rpListJSON
	e.RunJSON(&rps, "recovery-point", "list", "--vault", vault)
	if len(rps.RecoveryPoints) != 1 || rps.RecoveryPoints[0].RecoveryPointArn != job.RecoveryPointArn ||
		rps.RecoveryPoints[0].ResourceArn != "arn:aws:s3:::"+src {
		t.Fatalf("recovery points = %+v, want %s", rps, job.RecoveryPointArn)
	}
	rpArn := job.RecoveryPointArn
	var rp struct{ RecoveryPointArn, Status string }
	e.RunJSON(&rp, "recovery-point", "describe", "--vault", vault, rpArn)
	if rp.RecoveryPointArn != rpArn || rp.Status != "COMPLETED" {
		t.Errorf("recovery point = %+v", rp)
	}

	rj := restoreAndWait(t, e, c, rpArn, src, want)
	var restores struct{ RestoreJobs []clitest.JobJSON }
	e.RunJSON(&restores, "restore", "list")
	found := false
	for _, r := range restores.RestoreJobs {
		found = found || r.RestoreJobId == rj.RestoreJobId
	}
	if !found {
		t.Errorf("restore list lacks %s: %+v", rj.RestoreJobId, restores)
	}
	if out := e.Run("restore", "describe", rj.RestoreJobId); !strings.Contains(out, "COMPLETED") {
		t.Errorf("restore describe:\n%s", out)
	}

	e.Run("recovery-point", "delete", "--vault", vault, rpArn)
	waitNoRecoveryPoints(t, e, vault)
	e.Run("vault", "delete", vault)
	if out := e.Run("vault", "list"); strings.Contains(out, vault) {
		t.Errorf("vault %s still listed after delete:\n%s", vault, out)
	}
}

// restoreAndWait restores the recovery point rpArn of src twice with
// --wait: all versions of everything into a new bucket (as JSON), then one
// prefix into another (for humans). It returns the first restore job.
func restoreAndWait(t *testing.T, e *clitest.Env, c *minio.Client, rpArn, src string, want map[string]string) clitest.JobJSON {
	t.Helper()
	dst := testserver.UniqueBucketName("restore")
	var rj clitest.JobJSON
	e.RunJSON(&rj, "restore", "start", "--recovery-point", rpArn, "--dest-bucket", dst, "--new-bucket", "--versions", "all", "--wait")
	if rj.Status != "COMPLETED" {
		t.Fatalf("restore job = %+v", rj)
	}
	sameObjects(t, "full restore", readBucket(t, c, dst), want)
	if n := countVersions(t, c, dst, "overwritten.txt"); n != 2 {
		t.Errorf("--versions all restored %d versions of overwritten.txt, want 2", n)
	}

	dst2 := testserver.UniqueBucketName("restore-prefix")
	var pv restorePreview
	e.RunJSON(&pv, "restore", "preview", rpArn, "--bucket", dst2, "--new-bucket", "--item", "s3://"+src+"/docs/")
	if pv.Write.Count != 2 || !reflect.DeepEqual(pv.Write.Keys, []string{"docs/a.txt", "docs/deep/b.txt"}) || pv.Skip.Count != 0 ||
		pv.RestoreMode != "restore" || pv.BytesToWrite != int64(len("alpha")+len("beta")) {
		t.Errorf("restore preview = %+v", pv)
	}
	if out := e.Run("restore", "preview", rpArn, "--bucket", dst2, "--new-bucket", "--item", "s3://"+src+"/docs/"); !strings.Contains(out, "Write (2):\n  docs/a.txt\n  docs/deep/b.txt\n") {
		t.Errorf("restore preview output:\n%s", out)
	}
	out := e.Run("restore", "start", "--recovery-point", rpArn, "--dest-bucket", dst2, "--new-bucket",
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
func waitNoRecoveryPoints(t *testing.T, e *clitest.Env, vault string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var rps rpListJSON
		e.RunJSON(&rps, "recovery-point", "list", "--vault", vault)
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
	endpoint, creds, s3 := clitest.StartServer(t)
	e := clitest.NewEnv(t, endpoint, creds)
	old := cli.ListPageSize
	cli.ListPageSize = 2
	t.Cleanup(func() { cli.ListPageSize = old })

	missing := testserver.UniqueBucketName("missing")
	if _, errOut := e.Fail("vault", "describe", missing); !strings.Contains(errOut, "coffer: describe vault "+missing+": ResourceNotFoundException: ") {
		t.Errorf("API error not printed as op: code: message:\n%s", errOut)
	}

	vault := testserver.UniqueBucketName("vault")
	for _, v := range []string{vault, vault + "-b", vault + "-c"} {
		e.Run("vault", "create", v)
	}
	var vaults struct {
		BackupVaultList []struct{ BackupVaultName string }
	}
	if e.RunJSON(&vaults, "vault", "list"); len(vaults.BackupVaultList) != 3 {
		t.Errorf("vault list over pages of 2 = %+v, want 3 vaults", vaults)
	}

	src := s3.NewBucket(t, false)
	clitest.PutObjects(t, s3.Client(t), src, map[string]string{"a": "1", "b": "2"})
	var ids []string
	for range 3 {
		var job clitest.JobJSON
		e.RunJSON(&job, "backup", "start", "--vault", vault, "--bucket", src, "--wait")
		ids = append(ids, job.BackupJobId)
	}
	failedID := failedBackup(t, e, vault, missing)

	var all struct{ BackupJobs []clitest.JobJSON }
	e.RunJSON(&all, "backup", "list", "--vault", vault)
	if got := jobIDs(all.BackupJobs); !clitest.SameSet(got, append(ids, failedID)) {
		t.Errorf("backup list over pages of 2 = %q, want %q and %s", got, ids, failedID)
	}
	filters := map[string][]string{
		"--state FAILED":                     {failedID},
		"--resource-arn arn:aws:s3:::" + src: ids,
		"--created-after " + time.Now().Add(time.Hour).UTC().Format(time.RFC3339):  {},
		"--created-before " + time.Now().Add(time.Hour).UTC().Format(time.RFC3339): append(ids, failedID),
	}
	for f, want := range filters {
		var got struct{ BackupJobs []clitest.JobJSON }
		e.RunJSON(&got, append([]string{"backup", "list", "--vault", vault}, strings.SplitN(f, " ", 2)...)...)
		if !clitest.SameSet(jobIDs(got.BackupJobs), want) {
			t.Errorf("backup list %s = %q, want %q", f, jobIDs(got.BackupJobs), want)
		}
	}
	table := e.Run("backup", "list", "--vault", vault)
	if lines := strings.Split(strings.TrimSpace(table), "\n"); len(lines) != 5 || !strings.HasPrefix(lines[0], "JOB ID") ||
		!strings.Contains(table, failedID) || !strings.Contains(table, "FAILED") || !strings.Contains(table, "COMPLETED") {
		t.Errorf("backup list table:\n%s", table)
	}

	var rps rpListJSON
	if e.RunJSON(&rps, "recovery-point", "list", "--vault", vault); len(rps.RecoveryPoints) != 3 {
		t.Errorf("recovery-point list over pages of 2 = %+v, want 3", rps)
	}
	if _, errOut := e.Fail("restore", "describe", "no-such-job"); !strings.Contains(errOut, "ResourceNotFoundException") {
		t.Errorf("restore describe of a missing job:\n%s", errOut)
	}
}

// failedBackup backs up a bucket that does not exist with --wait: the job
// fails, the command exits 1 with the status message and prints the job.
func failedBackup(t *testing.T, e *clitest.Env, vault, bucket string) string {
	t.Helper()
	out, errOut := e.Fail("backup", "start", "--vault", vault, "--bucket", bucket, "--wait")
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

func jobIDs(jobs []clitest.JobJSON) []string {
	ids := []string{}
	for _, j := range jobs {
		ids = append(ids, j.BackupJobId)
	}
	return ids
}
