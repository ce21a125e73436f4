package servercmd_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/jackc/pgx/v5"

	"github.com/cofferbackup/coffer/internal/cli/servercmd"
	"github.com/cofferbackup/coffer/internal/coffertest"
	"github.com/cofferbackup/coffer/internal/testserver"
)

// TestSeveralProcessesOnePostgres runs three coffer processes on one
// PostgreSQL catalog and one data directory: 30 backups and 10 restores
// spread over them, one process killed with SIGKILL while it runs jobs.
// Every job ends COMPLETED exactly once (its dead process's jobs taken over
// by the others), every recovery point is listed by every live process,
// restores match byte for byte, and a plan whose cron fires meanwhile makes
// exactly one job per selected bucket.
func TestSeveralProcessesOnePostgres(t *testing.T) {
	ctx := context.Background()
	bin := buildCoffer(t)
	s3 := testserver.Shared(t, testserver.MinIO)
	mc := s3.Client(t)
	dbURL := coffertest.Database(t, "postgres")
	dataDir := t.TempDir()
	t.Cleanup(func() {
		if t.Failed() { // what the processes said, for the failure's reader
			log, _ := os.ReadFile(filepath.Join(dataDir, "server.log"))
			for _, line := range strings.Split(string(log), "\n") {
				if strings.Contains(line, "WARN") || strings.Contains(line, "ERROR") || strings.Contains(line, "level=") && strings.Contains(line, "taken") {
					t.Log(line)
				}
			}
		}
	})
	env := []string{servercmd.EnvDatabaseURL + "=" + dbURL}
	flags := []string{"--periodic-interval", "5s"}
	// The first process makes the master key and credentials; the others
	// find them.
	procs := []*serverProc{startProc(t, bin, dataDir, freeAddr(t), s3, env, flags...)}
	for range 2 {
		procs = append(procs, startProc(t, bin, dataDir, freeAddr(t), s3, env, flags...))
	}
	c := procs[0].client
	if _, err := c.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("mp")}); err != nil {
		t.Fatal(err)
	}

	// Ten buckets, each backed up once first (for the restores).
	const nBuckets = 10
	buckets := make([]string, nBuckets)
	wants := make([]map[string][]byte, nBuckets)
	for i := range buckets {
		buckets[i] = s3.NewBucket(t, true)
		wants[i] = coffertest.FillBucket(t, mc, buckets[i], fmt.Sprintf("mp%d/", i), 40, 64<<10)
	}
	var jobs []string // every backup job
	firstRPs := make([]string, nBuckets)
	for i, b := range buckets {
		out := startMPBackup(t, procs[i%3].client, b)
		jobs = append(jobs, aws.ToString(out.BackupJobId))
		firstRPs[i] = aws.ToString(out.RecoveryPointArn)
	}
	for _, id := range jobs {
		if j := waitBackupJob(t, c, id, finished); j.State != types.BackupJobStateCompleted {
			t.Fatalf("first backup %s: %s %q", id, j.State, aws.ToString(j.StatusMessage))
		}
	}

	// A plan whose cron fires in a minute or two, selecting two buckets.
	planID, firesAt := createMinutePlan(t, c, buckets[:2])

	// Twenty more backups and ten restores, spread over the processes.
	var restores, restoreDests []string
	for round := range 2 {
		for i, b := range buckets {
			out := startMPBackup(t, procs[(i+round+1)%3].client, b)
			jobs = append(jobs, aws.ToString(out.BackupJobId))
		}
	}
	for i, rp := range firstRPs {
		dest := testserver.UniqueBucketName("mprestore")
		out, err := procs[(i+2)%3].client.StartRestoreJob(ctx, &backup.StartRestoreJobInput{RecoveryPointArn: aws.String(rp),
			IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x"),
			Metadata:   map[string]string{"DestinationBucketName": dest, "NewBucket": "true"}})
		if err != nil {
			t.Fatal(err)
		}
		restores, restoreDests = append(restores, aws.ToString(out.RestoreJobId)), append(restoreDests, dest)
	}

	// Kill, with SIGKILL, a process that is running jobs right now.
	victim := waitForBusyProcess(t, dbURL, procs)
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = victim.cmd.Wait()
	var live []*serverProc
	for _, p := range procs {
		if p != victim {
			live = append(live, p)
		}
	}
	c = live[0].client

	// Every job ends COMPLETED; the dead process's jobs say they were taken over.
	takenOver := 0
	for _, id := range jobs {
		j := waitBackupJob(t, c, id, finished)
		if j.State != types.BackupJobStateCompleted {
			t.Fatalf("backup %s: %s %q", id, j.State, aws.ToString(j.StatusMessage))
		}
		if tookOver(aws.ToString(j.StatusMessage)) {
			takenOver++
		}
	}
	for i, id := range restores {
		r := coffertest.WaitRestoreJob(t, c, id)
		if r.Status != types.RestoreJobStatusCompleted {
			t.Fatalf("restore %s: %s %q", id, r.Status, aws.ToString(r.StatusMessage))
		}
		if tookOver(aws.ToString(r.StatusMessage)) {
			takenOver++
		}
		coffertest.CheckBucket(t, mc, restoreDests[i], wants[i])
	}
	if takenOver == 0 {
		t.Fatal("no job says it was taken over, yet its process was killed while running jobs")
	}
	checkEndedOnce(t, dbURL, append(jobs, restores...))

	// Every live process lists every recovery point.
	for _, p := range live {
		rps := listAllRecoveryPoints(t, p.client, "mp")
		if len(rps) < len(jobs) {
			t.Fatalf("a process lists %d recovery points, want at least %d", len(rps), len(jobs))
		}
	}
	// A recovery point made while processes died restores exactly too.
	last := waitBackupJob(t, c, jobs[len(jobs)-1], finished)
	coffertest.CheckBucket(t, mc, coffertest.RestoreToNewBucket(t, live[1].client, aws.ToString(last.RecoveryPointArn)), wants[nBuckets-1])

	// The plan's run: exactly one job per selected bucket.
	waitPlanJobs(t, c, planID, firesAt, buckets[:2])
}

func startMPBackup(t *testing.T, c *backup.Client, bucket string) *backup.StartBackupJobOutput {
	t.Helper()
	out, err := c.StartBackupJob(context.Background(), &backup.StartBackupJobInput{BackupVaultName: aws.String("mp"),
		ResourceArn: aws.String("arn:aws:s3:::" + bucket), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x")})
	if err != nil {
		t.Fatalf("StartBackupJob %s: %v", bucket, err)
	}
	return out
}

// createMinutePlan makes a plan whose hourly cron fires at the next
// minute with at least 30 s to go, selecting buckets by ARN.
func createMinutePlan(t *testing.T, c *backup.Client, buckets []string) (string, time.Time) {
	t.Helper()
	fires := time.Now().UTC().Add(90 * time.Second).Truncate(time.Minute)
	out, err := c.CreateBackupPlan(context.Background(), &backup.CreateBackupPlanInput{BackupPlan: &types.BackupPlanInput{
		BackupPlanName: aws.String("mp-plan"),
		Rules: []types.BackupRuleInput{{RuleName: aws.String("minute"), TargetBackupVaultName: aws.String("mp"),
			ScheduleExpression: aws.String(fmt.Sprintf("cron(%d * ? * * *)", fires.Minute())), StartWindowMinutes: aws.Int64(60)}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var arns []string
	for _, b := range buckets {
		arns = append(arns, "arn:aws:s3:::"+b)
	}
	if _, err := c.CreateBackupSelection(context.Background(), &backup.CreateBackupSelectionInput{BackupPlanId: out.BackupPlanId,
		BackupSelection: &types.BackupSelection{SelectionName: aws.String("two"), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x"),
			Resources: arns}}); err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.BackupPlanId), fires
}

// waitPlanJobs waits until the plan's run at firesAt made its jobs and
// they completed, then checks there is exactly one per bucket.
func waitPlanJobs(t *testing.T, c *backup.Client, planID string, firesAt time.Time, buckets []string) {
	t.Helper()
	deadline := firesAt.Add(3 * time.Minute)
	for {
		byBucket := map[string]int{}
		done := true
		var p *string
		for {
			out, err := c.ListBackupJobs(context.Background(), &backup.ListBackupJobsInput{NextToken: p})
			if err != nil {
				t.Fatal(err)
			}
			for _, j := range out.BackupJobs {
				if j.CreatedBy == nil || aws.ToString(j.CreatedBy.BackupPlanId) != planID {
					continue
				}
				byBucket[strings.TrimPrefix(aws.ToString(j.ResourceArn), "arn:aws:s3:::")]++
				if j.State != types.BackupJobStateCompleted {
					done = false
				}
			}
			if p = out.NextToken; p == nil {
				break
			}
		}
		if len(byBucket) == len(buckets) && done {
			for _, b := range buckets {
				if byBucket[b] != 1 {
					t.Fatalf("plan run made %d jobs for bucket %s, want exactly 1 (%v)", byBucket[b], b, byBucket)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("plan run at %s: jobs by bucket %v (all completed: %v), want one completed job for each of %v", firesAt, byBucket, done, buckets)
		}
		time.Sleep(time.Second)
	}
}

// waitForBusyProcess returns a live process that runs at least one job
// now, as the catalog records it.
func waitForBusyProcess(t *testing.T, dbURL string, procs []*serverProc) *serverProc {
	t.Helper()
	conn := connectSchema(t, dbURL)
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		var pid int
		err := conn.QueryRow(context.Background(), `SELECT p.pid FROM processes p WHERE p.stopped = 0 AND p.id IN (
			SELECT owner FROM backup_jobs WHERE state = 'RUNNING' UNION SELECT owner FROM restore_jobs WHERE status = 'RUNNING')
			LIMIT 1`).Scan(&pid)
		if err == nil {
			for _, p := range procs {
				if p.cmd.Process.Pid == pid {
					return p
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no process was seen running a job")
	return nil
}

// checkEndedOnce checks in the job event log that each job reached a
// final state exactly once.
func checkEndedOnce(t *testing.T, dbURL string, ids []string) {
	t.Helper()
	conn := connectSchema(t, dbURL)
	for _, id := range ids {
		var n int
		if err := conn.QueryRow(context.Background(), `SELECT COUNT(*) FROM job_events WHERE job_id = $1
			AND to_state IN ('COMPLETED', 'PARTIAL', 'FAILED', 'ABORTED', 'EXPIRED')`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Fatalf("job %s reached a final state %d times, want exactly once", id, n)
		}
	}
}

// connectSchema connects to the test's PostgreSQL schema (the URL's
// search_path, which pgx passes on), closed at cleanup.
func connectSchema(t *testing.T, dbURL string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func listAllRecoveryPoints(t *testing.T, c *backup.Client, vault string) []types.RecoveryPointByBackupVault {
	t.Helper()
	var all []types.RecoveryPointByBackupVault
	var tok *string
	for {
		out, err := c.ListRecoveryPointsByBackupVault(context.Background(), &backup.ListRecoveryPointsByBackupVaultInput{
			BackupVaultName: aws.String(vault), NextToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, out.RecoveryPoints...)
		if tok = out.NextToken; tok == nil {
			return all
		}
	}
}

// tookOver reports whether a job's final message says another process
// took it over (or found it done) after its process died.
func tookOver(msg string) bool {
	return strings.Contains(msg, "taken over") || strings.Contains(msg, "that ran it stopped")
}
