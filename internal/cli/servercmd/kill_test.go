package servercmd_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/cofferbackup/coffer/internal/auth"
	"github.com/cofferbackup/coffer/internal/coffertest"
	"github.com/cofferbackup/coffer/internal/testserver"
)

// serverProc is a `coffer server` child process.
type serverProc struct {
	cmd    *exec.Cmd
	client *backup.Client
}

// buildCoffer builds the coffer binary by import path, so that the test
// does not depend on the directory it runs in.
func buildCoffer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "coffer")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/cofferbackup/coffer/cmd/coffer").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startProc starts `coffer server` on dataDir and listen, with env added
// to its environment and args to its flags, and waits until it answers.
func startProc(t *testing.T, bin, dataDir, listen string, s3 *testserver.Server, env []string, args ...string) *serverProc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"server", "--data-dir", dataDir, "--listen", listen, "--parallelism", "2"}, args...)...)
	cmd.Env = append(os.Environ(), "COFFER_S3_ENDPOINT="+s3.Endpoint, "COFFER_S3_ACCESS_KEY="+s3.AccessKey, "COFFER_S3_SECRET_KEY="+s3.SecretKey)
	cmd.Env = append(cmd.Env, env...)
	logf, err := os.OpenFile(filepath.Join(dataDir, "server.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); logf.Close() })
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		creds, err := auth.ReadCredentialsFile(filepath.Join(dataDir, "credentials.json"))
		if err == nil {
			c := coffertest.NewClient("http://"+listen, creds)
			if _, err := c.GetSupportedResourceTypes(context.Background(), &backup.GetSupportedResourceTypesInput{}); err == nil {
				return &serverProc{cmd: cmd, client: c}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(dataDir, "server.log"))
	t.Fatalf("coffer server did not come up:\n%s", log)
	return nil
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitBackupJob(t *testing.T, c *backup.Client, id string, until func(*backup.DescribeBackupJobOutput) bool) *backup.DescribeBackupJobOutput {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	var last *backup.DescribeBackupJobOutput
	for time.Now().Before(deadline) {
		out, err := c.DescribeBackupJob(context.Background(), &backup.DescribeBackupJobInput{BackupJobId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		if until(out) {
			return out
		}
		last = out
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("job %s: condition not reached in 3 minutes; last %s %q", id, last.State, aws.ToString(last.StatusMessage))
	return nil
}

func finished(o *backup.DescribeBackupJobOutput) bool {
	switch o.State {
	case types.BackupJobStateCompleted, types.BackupJobStatePartial, types.BackupJobStateFailed, types.BackupJobStateAborted, types.BackupJobStateExpired:
		return true
	}
	return false
}

// TestKillMidBackup kills the server process with SIGKILL in the middle of
// a backup: after a restart the job is taken over and completes, and the
// vault holds only complete recovery points, each fully restorable.
func TestKillMidBackup(t *testing.T) {
	ctx := context.Background()
	bin := buildCoffer(t)
	s3 := testserver.Shared(t, testserver.MinIO)
	mc := s3.Client(t)
	small := s3.NewBucket(t, true)
	smallWant := coffertest.FillBucket(t, mc, small, "k/", 20, 3000)
	big := s3.NewBucket(t, true)
	bigWant := coffertest.FillBucket(t, mc, big, "k/", 1500, 8<<10)
	dataDir, listen := t.TempDir(), freeAddr(t)

	p := startProc(t, bin, dataDir, listen, s3, nil)
	if _, err := p.client.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("kv")}); err != nil {
		t.Fatal(err)
	}
	start := func(c *backup.Client, bucket string) *backup.StartBackupJobOutput {
		out, err := c.StartBackupJob(ctx, &backup.StartBackupJobInput{BackupVaultName: aws.String("kv"), ResourceArn: aws.String("arn:aws:s3:::" + bucket),
			IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x")})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	first := start(p.client, small)
	if j := waitBackupJob(t, p.client, aws.ToString(first.BackupJobId), finished); j.State != types.BackupJobStateCompleted {
		t.Fatalf("first backup: %s", j.State)
	}
	victim := start(p.client, big)
	waitBackupJob(t, p.client, aws.ToString(victim.BackupJobId), func(o *backup.DescribeBackupJobOutput) bool {
		if finished(o) {
			t.Fatalf("backup finished (%s) before it could be killed", o.State)
		}
		return o.State == types.BackupJobStateRunning && aws.ToInt64(o.BytesTransferred) > 0
	})
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()

	p = startProc(t, bin, dataDir, listen, s3, nil)
	// The restarted process takes the killed job over and runs it again
	// from the start: it completes, and says what happened.
	j := waitBackupJob(t, p.client, aws.ToString(victim.BackupJobId), finished)
	if j.State != types.BackupJobStateCompleted || !strings.Contains(aws.ToString(j.StatusMessage), "taken over") {
		t.Fatalf("killed job after restart: %s %q", j.State, aws.ToString(j.StatusMessage))
	}
	rps, err := p.client.ListRecoveryPointsByBackupVault(ctx, &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: aws.String("kv")})
	if err != nil || len(rps.RecoveryPoints) != 2 {
		t.Fatalf("recovery points after kill: %+v %v", rps, err)
	}
	coffertest.CheckBucket(t, mc, coffertest.RestoreToNewBucket(t, p.client, aws.ToString(first.RecoveryPointArn)), smallWant)
	again := victim
	coffertest.CheckBucket(t, mc, coffertest.RestoreToNewBucket(t, p.client, aws.ToString(again.RecoveryPointArn)), bigWant)
}
