package servercmd_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/cofferbackup/coffer/internal/auth"
	"github.com/cofferbackup/coffer/internal/coffertest"
	"github.com/cofferbackup/coffer/internal/testserver"
)

// loadMemoryBound is the peak RSS the server must stay under while it
// serves the load and runs its jobs (issue 10's bound for the server).
const loadMemoryBound = 300 << 20

// TestLoad runs 200 concurrent API clients (the official SDK, with its
// default retries, as users run it) against the real binary while it runs
// backups and restores: no call may fail, and the server stays within its
// memory bound. It reports the calls made and their latency percentiles.
// The test command runs it for 10 s; COFFER_LOAD_DURATION (a Go duration)
// and COFFER_LOAD_CLIENTS change that (scripts/soak.sh: 60 s).
func TestLoad(t *testing.T) {
	ctx := context.Background()
	duration, clients := 10*time.Second, 200
	if d, err := time.ParseDuration(os.Getenv("COFFER_LOAD_DURATION")); err == nil {
		duration = d
	}
	if n, err := strconv.Atoi(os.Getenv("COFFER_LOAD_CLIENTS")); err == nil && n > 0 {
		clients = n
	}
	bin := buildCoffer(t)
	s3 := testserver.Shared(t, testserver.MinIO)
	mc := s3.Client(t)
	bucket := s3.NewBucket(t, true)
	coffertest.FillBucket(t, mc, bucket, "load/", 300, 32<<10)
	dataDir, listen := t.TempDir(), freeAddr(t)
	p := startProc(t, bin, dataDir, listen, s3, nil)
	if _, err := p.client.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("load")}); err != nil {
		t.Fatal(err)
	}
	first := startLoadBackup(t, p.client, bucket)
	if j := waitBackupJob(t, p.client, aws.ToString(first.BackupJobId), finished); j.State != types.BackupJobStateCompleted {
		t.Fatalf("first backup: %s", j.State)
	}
	creds, err := auth.ReadCredentialsFile(filepath.Join(dataDir, "credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	lctx, cancel := context.WithTimeout(ctx, duration)
	defer cancel()
	jobs := runLoadJobs(lctx, t, p.client, bucket, aws.ToString(first.RecoveryPointArn))
	st := &loadStats{}
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := backup.New(backup.Options{BaseEndpoint: aws.String("http://" + listen), Region: "us-east-1",
				Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
					return aws.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey}, nil
				})})
			loadClient(lctx, c, rand.New(rand.NewPCG(uint64(i), 1)), st)
		}()
	}
	wg.Wait()
	n := jobs()
	rss, err := peakRSS(p.cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	lat := st.sorted()
	if len(lat) == 0 {
		t.Fatal("no call was made")
	}
	pct := func(q float64) time.Duration { return lat[min(int(float64(len(lat))*q), len(lat)-1)] }
	t.Logf("%d clients for %v: %d calls (%.0f/s), p50 %v, p99 %v, max %v; %d backups and restores ran meanwhile; server peak RSS %d MiB",
		clients, duration, len(lat), float64(len(lat))/duration.Seconds(), pct(0.5), pct(0.99), lat[len(lat)-1], n, rss>>20)
	if e := st.errs.Load(); e > 0 {
		t.Errorf("%d of %d calls failed; first: %v", e, len(lat), st.firstErr.Load())
	}
	if rss > loadMemoryBound {
		t.Errorf("server peak RSS %d MiB, over the %d MiB bound", rss>>20, loadMemoryBound>>20)
	}
}

// loadStats collects the latency of every call and the errors.
type loadStats struct {
	mu       sync.Mutex
	lat      []time.Duration
	errs     atomic.Int64
	firstErr atomic.Value
}

func (s *loadStats) add(d time.Duration, err error) {
	s.mu.Lock()
	s.lat = append(s.lat, d)
	s.mu.Unlock()
	if err != nil {
		if s.errs.Add(1) == 1 {
			s.firstErr.Store(err.Error())
		}
	}
}

func (s *loadStats) sorted() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	slices.Sort(s.lat)
	return s.lat
}

// loadClient makes calls until ctx ends: mostly reads of what a console
// polls, and tag changes on the vault (signed bodies, replay checks).
func loadClient(ctx context.Context, c *backup.Client, rnd *rand.Rand, st *loadStats) {
	vault := aws.String("load")
	vaultARN := "arn:aws:backup:us-east-1:000000000000:backup-vault:load"
	calls := []func(context.Context) error{
		func(ctx context.Context) error {
			_, err := c.ListBackupVaults(ctx, &backup.ListBackupVaultsInput{})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.DescribeBackupVault(ctx, &backup.DescribeBackupVaultInput{BackupVaultName: vault})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.ListBackupJobs(ctx, &backup.ListBackupJobsInput{MaxResults: aws.Int32(20)})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.ListRecoveryPointsByBackupVault(ctx, &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: vault})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.ListRestoreJobs(ctx, &backup.ListRestoreJobsInput{})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.ListTags(ctx, &backup.ListTagsInput{ResourceArn: &vaultARN})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.TagResource(ctx, &backup.TagResourceInput{ResourceArn: &vaultARN,
				Tags: map[string]string{fmt.Sprintf("k%d", rnd.IntN(20)): "v"}})
			return err
		},
	}
	for ctx.Err() == nil {
		call := calls[rnd.IntN(len(calls))]
		start := time.Now()
		err := call(ctx)
		if ctx.Err() != nil {
			return // cut by the end of the run, not an answer
		}
		st.add(time.Since(start), err)
	}
}

func startLoadBackup(t *testing.T, c *backup.Client, bucket string) *backup.StartBackupJobOutput {
	t.Helper()
	out, err := c.StartBackupJob(context.Background(), &backup.StartBackupJobInput{BackupVaultName: aws.String("load"),
		ResourceArn: aws.String("arn:aws:s3:::" + bucket), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x")})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// runLoadJobs keeps a backup and a restore running until ctx ends; the
// returned func waits for the last ones and returns how many ran. Each
// must complete. (No t.Fatal here: it runs beside the test's goroutine.)
func runLoadJobs(ctx context.Context, t *testing.T, c *backup.Client, bucket, rpARN string) func() int {
	var wg sync.WaitGroup
	var n atomic.Int64
	loop := func(what string, run func() (string, error)) {
		defer wg.Done()
		for ctx.Err() == nil {
			state, err := run()
			if err != nil || state != "COMPLETED" {
				t.Errorf("%s under load: %s %v", what, state, err)
				return
			}
			n.Add(1)
		}
	}
	bg := context.Background()
	wg.Add(2)
	go loop("backup", func() (string, error) {
		out, err := c.StartBackupJob(bg, &backup.StartBackupJobInput{BackupVaultName: aws.String("load"),
			ResourceArn: aws.String("arn:aws:s3:::" + bucket), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x")})
		if err != nil {
			return "", err
		}
		return untilFinal(func() (string, bool, error) {
			j, err := c.DescribeBackupJob(bg, &backup.DescribeBackupJobInput{BackupJobId: out.BackupJobId})
			if err != nil {
				return "", false, err
			}
			return string(j.State), finished(j), nil
		})
	})
	go loop("restore", func() (string, error) {
		r, err := c.StartRestoreJob(bg, &backup.StartRestoreJobInput{RecoveryPointArn: aws.String(rpARN),
			IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x"),
			Metadata:   map[string]string{"DestinationBucketName": testserver.UniqueBucketName("load"), "NewBucket": "true"}})
		if err != nil {
			return "", err
		}
		return untilFinal(func() (string, bool, error) {
			j, err := c.DescribeRestoreJob(bg, &backup.DescribeRestoreJobInput{RestoreJobId: r.RestoreJobId})
			if err != nil {
				return "", false, err
			}
			s := j.Status
			return string(s), s != types.RestoreJobStatusPending && s != types.RestoreJobStatusRunning, nil
		})
	})
	return func() int {
		wg.Wait()
		return int(n.Load())
	}
}

// untilFinal polls describe until the job is final, for at most 3 minutes.
func untilFinal(describe func() (state string, final bool, err error)) (string, error) {
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		state, final, err := describe()
		if err != nil || final {
			return state, err
		}
	}
	return "", fmt.Errorf("not final after 3 minutes")
}

// peakRSS is a process's peak resident set (VmHWM), in bytes.
func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}
