package service_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/cofferbackup/coffer/internal/clock"
	"github.com/cofferbackup/coffer/internal/coffertest"
)

func TestStartAndCompletionWindows(t *testing.T) { forEachEngine(t, testStartAndCompletionWindows) }

func testStartAndCompletionWindows(t *testing.T, db string) {
	clk := clock.NewFake(time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC))
	e := coffertest.Start(t, coffertest.Options{Database: db, Clock: clk, Parallelism: 1, MaxJobs: 1})
	mc := e.S3.Client(t)
	big, small := e.S3.NewBucket(t, true), e.S3.NewBucket(t, true)
	coffertest.FillBucket(t, mc, big, "b/", 400, 1024)
	coffertest.FillBucket(t, mc, small, "s/", 2, 10)
	createVault(t, e.Client, "win")
	start := func(bucket string, startWin, completeWin int64) string {
		t.Helper()
		in := &backup.StartBackupJobInput{BackupVaultName: aws.String("win"), ResourceArn: aws.String("arn:aws:s3:::" + bucket),
			IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x")}
		if startWin > 0 {
			in.StartWindowMinutes = aws.Int64(startWin)
		}
		if completeWin > 0 {
			in.CompleteWindowMinutes = aws.Int64(completeWin)
		}
		out, err := e.Client.StartBackupJob(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.BackupJobId)
	}
	// The big job holds the only slot past its completion window; the
	// small one waits past its start window.
	slow := start(big, 0, 60)
	late := start(small, 60, 0)
	for {
		d, err := e.Client.DescribeBackupJob(ctx, &backup.DescribeBackupJobInput{BackupJobId: aws.String(slow)})
		if err != nil {
			t.Fatal(err)
		}
		if d.State == types.BackupJobStateRunning {
			break
		}
		if d.State != types.BackupJobStateCreated && d.State != types.BackupJobStatePending {
			t.Fatalf("slow job ended %s before the test could time it out", d.State)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n, err := e.Service.EnforceWindows(ctx); err != nil || n != 0 {
		t.Fatalf("stopped %d jobs inside their window (%v)", n, err)
	}
	clk.Advance(61 * time.Minute)
	// The slow job is stopped; the queued one expires without waiting
	// for the worker the slow one holds.
	if n, err := e.Service.EnforceWindows(ctx); err != nil || n != 2 {
		t.Fatalf("ended %d jobs past their windows (%v), want 2", n, err)
	}
	for id, want := range map[string]string{slow: "completion window", late: "start window"} {
		j := e.WaitBackup(t, id)
		if j.State != types.BackupJobStateExpired || !strings.Contains(aws.ToString(j.StatusMessage), want) {
			t.Errorf("job %s: %s %q, want EXPIRED mentioning %q", id, j.State, aws.ToString(j.StatusMessage), want)
		}
	}
	rps, err := e.Client.ListRecoveryPointsByBackupVault(ctx, &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: aws.String("win")})
	if err != nil || len(rps.RecoveryPoints) != 0 {
		t.Fatalf("expired jobs left %d recovery points (%v)", len(rps.RecoveryPoints), err)
	}
	if _, err := e.Client.StartBackupJob(ctx, &backup.StartBackupJobInput{BackupVaultName: aws.String("win"), ResourceArn: aws.String("arn:aws:s3:::" + small),
		IamRoleArn: aws.String("r"), CompleteWindowMinutes: aws.Int64(10)}); err == nil || !strings.Contains(err.Error(), "CompleteWindowMinutes") {
		t.Fatalf("a 10-minute completion window was accepted: %v", err)
	}
}

func TestOneBackupPerBucketAtATime(t *testing.T) { forEachEngine(t, testOneBackupPerBucketAtATime) }

func testOneBackupPerBucketAtATime(t *testing.T, db string) {
	e := coffertest.Start(t, coffertest.Options{Database: db, Parallelism: 2, MaxJobs: 2})
	mc := e.S3.Client(t)
	bucket := e.S3.NewBucket(t, true)
	want := coffertest.FillBucket(t, mc, bucket, "o/", 150, 2048)
	createVault(t, e.Client, "one")
	first := startBackup(t, e.Client, "one", bucket, 0)
	second := startBackup(t, e.Client, "one", bucket, 0) // a free slot, but the bucket is busy
	a := e.WaitBackup(t, aws.ToString(first.BackupJobId))
	b := e.WaitBackup(t, aws.ToString(second.BackupJobId))
	if a.State != types.BackupJobStateCompleted || b.State != types.BackupJobStateCompleted {
		t.Fatalf("states %s, %s", a.State, b.State)
	}
	// Either may win the bucket; the other waits until it ends.
	if aws.ToTime(b.InitiationDate).Before(aws.ToTime(a.InitiationDate)) {
		a, b = b, a
	}
	if aws.ToTime(b.InitiationDate).Before(aws.ToTime(a.CompletionDate)) {
		t.Fatalf("one backup started at %s, before the other ended at %s", aws.ToTime(b.InitiationDate), aws.ToTime(a.CompletionDate))
	}
	// Run one after the other, the later one is incremental on the first.
	if aws.ToInt64(b.BytesTransferred) != 0 {
		t.Fatalf("the later backup transferred %d bytes; it should have reused the first", aws.ToInt64(b.BytesTransferred))
	}
	restoreAndCompare(t, e, aws.ToString(b.RecoveryPointArn), want)
}
