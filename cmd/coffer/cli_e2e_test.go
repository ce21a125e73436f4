// End-to-end test of the client commands against a real coffer server
// (startServer, server_test.go) and a real S3 server.

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/cofferbackup/coffer/internal/auth"
	"github.com/cofferbackup/coffer/internal/testserver"
)

// cliEnv runs commands in-process against one server.
type cliEnv struct {
	t      *testing.T
	common []string
}

func newCLIEnv(t *testing.T, endpoint string, creds auth.Credentials) *cliEnv {
	return &cliEnv{t: t, common: []string{
		"--endpoint", endpoint, "--access-key-id", creds.AccessKeyID,
		"--secret-access-key", creds.SecretAccessKey, "--data-dir", t.TempDir(),
	}}
}

// run runs one command and fails the test when it does not exit 0.
func (e *cliEnv) run(args ...string) string {
	e.t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if code := runMain(ctx, append(args, e.common...), &out, &errOut); code != 0 {
		e.t.Fatalf("coffer %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out.String(), errOut.String())
	}
	return out.String()
}

// runJSON runs a command with --json and decodes its output into v.
func (e *cliEnv) runJSON(v any, args ...string) {
	e.t.Helper()
	out := e.run(append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		e.t.Fatalf("coffer %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
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
	BackupJobId, RestoreJobId, State, Status, RecoveryPointArn, StatusMessage string
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

	var job jobJSON
	e.runJSON(&job, "backup", "start", "--vault", vault, "--bucket", src, "--wait")
	if job.State != "COMPLETED" || job.RecoveryPointArn == "" {
		t.Fatalf("backup job = %+v", job)
	}
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

	// Whole bucket into a new bucket.
	dst := testserver.UniqueBucketName("restore")
	var rj jobJSON
	e.runJSON(&rj, "restore", "start", "--recovery-point", rpArn, "--dest-bucket", dst, "--new-bucket", "--wait")
	if rj.Status != "COMPLETED" {
		t.Fatalf("restore job = %+v", rj)
	}
	sameObjects(t, "full restore", readBucket(t, c, dst), want)

	// One prefix into another new bucket.
	dst2 := testserver.UniqueBucketName("restore-prefix")
	e.run("restore", "start", "--recovery-point", rpArn, "--dest-bucket", dst2, "--new-bucket",
		"--item", "s3://"+src+"/docs/", "--wait")
	sameObjects(t, "prefix restore", readBucket(t, c, dst2), map[string]string{"docs/a.txt": "alpha", "docs/deep/b.txt": "beta"})

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
