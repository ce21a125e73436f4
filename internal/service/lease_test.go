package service_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/cofferbackup/coffer/internal/coffertest"
	"github.com/cofferbackup/coffer/internal/service"
	"github.com/cofferbackup/coffer/internal/testserver"
)

// hold is a service test hook that keeps whoever calls it until released
// (or until its context ends), so that "long" needs no timing.
type hold struct {
	entered chan string
	release chan struct{}
	once    sync.Once
}

func newHold() *hold { return &hold{entered: make(chan string, 16), release: make(chan struct{})} }

func (h *hold) wait(ctx context.Context, id string) {
	select {
	case h.entered <- id:
	default:
	}
	select {
	case <-h.release:
	case <-ctx.Done():
	}
}

func (h *hold) open() { h.once.Do(func() { close(h.release) }) }

func (h *hold) waitEntered(t *testing.T, what string) {
	t.Helper()
	select {
	case <-h.entered:
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not reach its test hook within 60s", what)
	}
}

// waitBackupWithin polls a backup job until it ends, failing after d.
func waitBackupWithin(t *testing.T, e *coffertest.Env, id string, d time.Duration) *backup.DescribeBackupJobOutput {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		out, err := e.Client.DescribeBackupJob(ctx, &backup.DescribeBackupJobInput{BackupJobId: aws.String(id)})
		if err != nil {
			t.Fatalf("DescribeBackupJob %s: %v", id, err)
		}
		switch out.State {
		case types.BackupJobStateCompleted, types.BackupJobStatePartial, types.BackupJobStateFailed,
			types.BackupJobStateAborted, types.BackupJobStateExpired:
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("backup job %s still %s %q after %s", id, out.State, aws.ToString(out.StatusMessage), d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func startRestore(t *testing.T, e *coffertest.Env, rpARN *string) (id, dest string) {
	t.Helper()
	dest = testserver.UniqueBucketName("restored")
	rj, err := e.Client.StartRestoreJob(ctx, &backup.StartRestoreJobInput{RecoveryPointArn: rpARN,
		IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x"),
		Metadata:   map[string]string{"DestinationBucketName": dest, "NewBucket": "true"}})
	if err != nil {
		t.Fatalf("StartRestoreJob: %v", err)
	}
	return aws.ToString(rj.RestoreJobId), dest
}

// stopWithin stops a backup job and fails unless it ends ABORTED within d.
func stopWithin(t *testing.T, e *coffertest.Env, id string, d time.Duration) {
	t.Helper()
	start := time.Now()
	if _, err := e.Client.StopBackupJob(ctx, &backup.StopBackupJobInput{BackupJobId: aws.String(id)}); err != nil {
		t.Fatalf("StopBackupJob %s: %v", id, err)
	}
	if j := waitBackupWithin(t, e, id, d); j.State != types.BackupJobStateAborted {
		t.Fatalf("stopped job %s: %s %q, want ABORTED", id, j.State, aws.ToString(j.StatusMessage))
	}
	t.Logf("stop took effect in %s", time.Since(start).Round(time.Millisecond))
}

func completed(t *testing.T, e *coffertest.Env, what string, out *backup.StartBackupJobOutput) {
	t.Helper()
	if j := waitBackupWithin(t, e, aws.ToString(out.BackupJobId), 2*time.Minute); j.State != types.BackupJobStateCompleted {
		t.Fatalf("%s: %s %q", what, j.State, aws.ToString(j.StatusMessage))
	}
}

// TestDeleteDuringLongRestore is issue 7's case: a recovery point deleted
// while a long restore runs on the same vault used to stall every job on
// the server (the maintenance it started waited for the restore, and new
// jobs waited behind the maintenance, each on a worker). Now a backup into
// that vault completes while the restore still runs, and a waiting backup
// can be stopped at once.
func TestDeleteDuringLongRestore(t *testing.T) {
	restores := newHold()
	e := coffertest.Start(t, coffertest.Options{MaxJobs: 2, TestHooks: &service.TestHooks{RestoreRunning: restores.wait}})
	t.Cleanup(restores.open) // before the service closes
	mc := e.S3.Client(t)
	src := e.S3.NewBucket(t, true)
	want := coffertest.FillBucket(t, mc, src, "src/", 20, 64<<10)
	doomed := e.S3.NewBucket(t, true)
	coffertest.FillBucket(t, mc, doomed, "doomed/", 5, 1000)
	next := e.S3.NewBucket(t, true)
	wantNext := coffertest.FillBucket(t, mc, next, "next/", 10, 4000)
	big := e.S3.NewBucket(t, true)
	coffertest.FillBucket(t, mc, big, "big/", 300, 1024)
	createVault(t, e.Client, "lease")
	srcJob := startBackup(t, e.Client, "lease", src, 0)
	doomedJob := startBackup(t, e.Client, "lease", doomed, 0)
	completed(t, e, "backup of the restore's source", srcJob)
	completed(t, e, "backup to delete", doomedJob)

	restoreID, dest := startRestore(t, e, srcJob.RecoveryPointArn)
	restores.waitEntered(t, "the restore")
	if _, err := e.Client.DeleteRecoveryPoint(ctx, &backup.DeleteRecoveryPointInput{
		BackupVaultName: aws.String("lease"), RecoveryPointArn: doomedJob.RecoveryPointArn}); err != nil {
		t.Fatalf("DeleteRecoveryPoint during the restore: %v", err)
	}
	// The delete queued a maintenance job of the vault; give it a moment
	// to find the vault held by the restore (it waits in the queue).
	time.Sleep(300 * time.Millisecond)

	backupJob := startBackup(t, e.Client, "lease", next, 0)
	waiting := startBackup(t, e.Client, "lease", big, 0) // no worker is free for it
	stopWithin(t, e, aws.ToString(waiting.BackupJobId), 5*time.Second)
	completed(t, e, "backup into the vault during the restore", backupJob)
	r, err := e.Client.DescribeRestoreJob(ctx, &backup.DescribeRestoreJobInput{RestoreJobId: aws.String(restoreID)})
	if err != nil || r.Status != types.RestoreJobStatusRunning {
		t.Fatalf("the restore should still run: %v %v", r.Status, err)
	}

	restores.open()
	if r := e.WaitRestore(t, restoreID); r.Status != types.RestoreJobStatusCompleted {
		t.Fatalf("restore: %s %q", r.Status, aws.ToString(r.StatusMessage))
	}
	coffertest.CheckBucket(t, mc, dest, want)
	// Maintenance ran (or runs) once the restore let go; the backup made
	// meanwhile is intact.
	restoreAndCompare(t, e, aws.ToString(backupJob.RecoveryPointArn), wantNext)
}

// TestJobsWaitForMaintenanceInTheQueue: while maintenance holds a vault,
// its jobs wait PENDING in the queue, saying why, and hold no worker: with
// a single worker, a backup into another vault completes meanwhile, and a
// waiting backup stops at once. When maintenance ends the waiting restore
// runs.
func TestJobsWaitForMaintenanceInTheQueue(t *testing.T) {
	maint := newHold()
	e := coffertest.Start(t, coffertest.Options{MaxJobs: 1, TestHooks: &service.TestHooks{MaintenanceHeld: maint.wait}})
	t.Cleanup(maint.open)
	mc := e.S3.Client(t)
	a := e.S3.NewBucket(t, true)
	wantA := coffertest.FillBucket(t, mc, a, "a/", 20, 4000)
	o := e.S3.NewBucket(t, true)
	coffertest.FillBucket(t, mc, o, "o/", 3, 100)
	createVault(t, e.Client, "maint")
	createVault(t, e.Client, "elsewhere")
	first := startBackup(t, e.Client, "maint", a, 0)
	completed(t, e, "first backup", first)

	maintained := make(chan error, 1)
	go func() {
		_, err := e.Service.MaintainVault(ctx, "maint")
		maintained <- err
	}()
	maint.waitEntered(t, "maintenance")

	const why = `waiting for maintenance of backup vault "maint" to finish`
	blocked := startBackup(t, e.Client, "maint", a, 0)
	waitFor(t, "backup PENDING behind maintenance", func() (bool, string) {
		j, err := e.Client.DescribeBackupJob(ctx, &backup.DescribeBackupJobInput{BackupJobId: blocked.BackupJobId})
		if err != nil {
			t.Fatal(err)
		}
		return j.State == types.BackupJobStatePending && aws.ToString(j.StatusMessage) == why,
			string(j.State) + " " + aws.ToString(j.StatusMessage)
	})
	restoreID, dest := startRestore(t, e, first.RecoveryPointArn)
	waitFor(t, "restore PENDING behind maintenance", func() (bool, string) {
		r, err := e.Client.DescribeRestoreJob(ctx, &backup.DescribeRestoreJobInput{RestoreJobId: aws.String(restoreID)})
		if err != nil {
			t.Fatal(err)
		}
		return r.Status == types.RestoreJobStatusPending && aws.ToString(r.StatusMessage) == why,
			string(r.Status) + " " + aws.ToString(r.StatusMessage)
	})
	completed(t, e, "backup into another vault while jobs wait for maintenance", startBackup(t, e.Client, "elsewhere", o, 0))
	stopWithin(t, e, aws.ToString(blocked.BackupJobId), 5*time.Second)

	maint.open()
	if err := <-maintained; err != nil {
		t.Fatalf("maintenance: %v", err)
	}
	if r := e.WaitRestore(t, restoreID); r.Status != types.RestoreJobStatusCompleted {
		t.Fatalf("restore after maintenance: %s %q", r.Status, aws.ToString(r.StatusMessage))
	}
	coffertest.CheckBucket(t, mc, dest, wantA)
}

// waitFor polls cond for up to a minute; cond also describes what it saw.
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		ok, saw := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %s after a minute", what, strings.TrimSpace(saw))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestShutdownLeavesVaultWaitersQueued: a backup waiting for its vault's
// maintenance is still queued after coffer stops, and runs after the
// restart.
func TestShutdownLeavesVaultWaitersQueued(t *testing.T) {
	maint := newHold()
	e := coffertest.Start(t, coffertest.Options{MaxJobs: 1, TestHooks: &service.TestHooks{MaintenanceHeld: maint.wait}})
	t.Cleanup(maint.open)
	mc := e.S3.Client(t)
	a := e.S3.NewBucket(t, true)
	want := coffertest.FillBucket(t, mc, a, "a/", 10, 3000)
	createVault(t, e.Client, "shut")
	svc := e.Service
	maintained := make(chan error, 1)
	go func() {
		_, err := svc.MaintainVault(ctx, "shut")
		maintained <- err
	}()
	maint.waitEntered(t, "maintenance")
	queued := startBackup(t, e.Client, "shut", a, 0)
	waitState(t, e, aws.ToString(queued.BackupJobId), types.BackupJobStatePending)

	e.Restart(t) // the held maintenance belongs to the stopped service
	maint.open()
	<-maintained // its vault was closed under it: an error is fine
	completed(t, e, "the waiting backup after the restart", queued)
	restoreAndCompare(t, e, aws.ToString(queued.RecoveryPointArn), want)
}
