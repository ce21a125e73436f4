package capture_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/minio/minio-go/v7"

	"github.com/cofferbackup/coffer/internal/backup/backuptest"
	"github.com/cofferbackup/coffer/internal/coffertest"
	"github.com/cofferbackup/coffer/internal/service"
)

// stopClock is the wall clock until the test stops it at a time of its
// choosing (then it moves only when the test moves it).
type stopClock struct {
	mu      sync.Mutex
	stopped bool
	at      time.Time
}

func (c *stopClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return c.at
	}
	return time.Now().UTC()
}

func (c *stopClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped, c.at = true, t.UTC()
}

// TestContinuousRetention: a day after the changes (the clock moved), a
// maintenance compacts the capture log of a one-day protection, once no
// legal hold holds it any more. A crash
// injected between the checkpoint's commit and the sweep leaves restores
// in the window exact and EarliestRestorableTime moved; a RestoreTime
// before it is refused naming the window. The next maintenance sweeps:
// the space of a version superseded before the window's start is
// reclaimed, restores in the window are still exact, a periodic recovery
// point of the bucket keeps the versions it shares with the log, a scan
// does not capture the dropped versions again, and the catalog rebuilt
// from the vault has the same window.
func TestContinuousRetention(t *testing.T) {
	clk := &stopClock{}
	var crash atomic.Bool
	e := coffertest.Start(t, coffertest.Options{Clock: clk, Configure: func(c *service.Config) {
		fast(time.Second)(c)
		c.CompactRound = time.Millisecond
		c.TestHooks = &service.TestHooks{AfterRetain: func(context.Context, string) error {
			if crash.Load() {
				return errors.New("crash injected")
			}
			return nil
		}}
	}})
	mc := e.S3.Client(t)
	bucket := e.S3.NewBucket(t, true)
	seed(t, mc, bucket)
	arn := protectBucketFor(t, e, bucket, 1)
	vault := vaultName(t, e, arn)
	job := e.WaitBackup(t, aws.ToString(coffertest.StartBackup(t, e.Client, vault, bucket).BackupJobId))
	periodic, periodicWant := aws.ToString(job.RecoveryPointArn), backuptest.Histories(backuptest.Snapshot(t, mc, bucket))

	// x.big's first version (1 MiB) is superseded before the window's
	// start and then deleted from the bucket for good: only the capture
	// log holds it, and retention drops it.
	big := func(seed uint64) string {
		data := backuptest.Bytes(seed, 1<<20)
		info, err := mc.PutObject(ctx, bucket, "x.big", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return info.VersionID
	}
	first := big(1)
	big(2)
	put(t, mc, bucket, "a.txt", 20)
	inWindow := current(t, mc, bucket)
	start := time.Now().Add(500 * time.Millisecond) // the window's start, a day later
	time.Sleep(2200 * time.Millisecond)
	put(t, mc, bucket, "a.txt", 21)
	if err := mc.RemoveObject(ctx, bucket, "c.del", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	final := current(t, mc, bucket)
	waitCovered(t, e, vault, arn, time.Now())
	if err := mc.RemoveObject(ctx, bucket, "x.big", minio.RemoveObjectOptions{VersionID: first}); err != nil {
		t.Fatal(err)
	}
	clk.set(start.Add(24 * time.Hour))
	waitCovered(t, e, vault, arn, start.Add(24*time.Hour)) // the scan due then: the next waits for the clock

	// A legal hold on the recovery point keeps its log whole.
	count := func() int64 {
		rp, err := e.Service.Catalog().RecoveryPointByARN(ctx, arn)
		if err != nil {
			t.Fatal(err)
		}
		return rp.ObjectCount
	}
	whole := count()
	hold, err := e.Client.CreateLegalHold(ctx, &backup.CreateLegalHoldInput{Title: aws.String("keep"), Description: aws.String("all of it"),
		RecoveryPointSelection: &types.RecoveryPointSelection{VaultNames: []string{vault}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Service.MaintainVault(ctx, vault); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != whole {
		t.Fatalf("under a legal hold the capture log went from %d versions to %d", whole, n)
	}
	if _, err := e.Client.CancelLegalHold(ctx, &backup.CancelLegalHoldInput{LegalHoldId: hold.LegalHoldId,
		CancelDescription: aws.String("done"), RetainRecordInDays: aws.Int64(0)}); err != nil {
		t.Fatal(err)
	}

	// The crash: the checkpoint is committed, nothing swept.
	crash.Store(true)
	if _, err := e.Service.MaintainVault(ctx, vault); err == nil || !strings.Contains(err.Error(), "crash injected") {
		t.Fatalf("maintenance with a crash after the checkpoint: %v", err)
	}
	if n := count(); n >= whole {
		t.Fatalf("after retention the capture log holds %d versions, %d before", n, whole)
	}
	earliest, latest, _ := window(t, e, vault, arn)
	if d := earliest.Sub(start); d < -2*time.Millisecond || d > 2*time.Millisecond {
		t.Fatalf("EarliestRestorableTime %s after retention, want the window's start %s", earliest, start)
	}
	// (the API's float seconds may round the earliest time down a millisecond)
	restoreAt(t, e, arn, earliest.Add(time.Millisecond), inWindow)
	refusedBefore(t, e, arn, earliest)

	crash.Store(false)
	ms, err := e.Service.MaintainVault(ctx, vault)
	if err != nil {
		t.Fatal(err)
	}
	if ms.FreedBytes < 3<<18 {
		t.Errorf("maintenance after the sweep freed %d bytes, want the 1 MiB of the dropped version (%+v)", ms.FreedBytes, ms)
	}
	restoreAt(t, e, arn, earliest.Add(time.Millisecond), inWindow)
	restoreAt(t, e, arn, latest, final)
	refusedBefore(t, e, arn, earliest)
	dest, id := coffertest.StartRestoreToNewBucket(t, e.Client, periodic, map[string]string{"RestoreLatestVersionsUpTo": "all"})
	if out := coffertest.WaitRestoreJob(t, e.Client, id); out.Status != types.RestoreJobStatusCompleted {
		t.Fatalf("restore of the periodic recovery point: %s %s", out.Status, aws.ToString(out.StatusMessage))
	}
	for _, d := range backuptest.Diff(periodicWant, backuptest.Histories(backuptest.Snapshot(t, mc, dest))) {
		t.Errorf("periodic recovery point after retention: %s", d)
	}

	// A scan after retention does not capture the dropped versions again.
	rp, err := e.Service.Catalog().RecoveryPointByARN(ctx, arn)
	if err != nil {
		t.Fatal(err)
	}
	moved := start.Add(24*time.Hour + 1200*time.Millisecond) // a scan is due, the window's start is still before a.txt's last write
	clk.set(moved)
	waitCovered(t, e, vault, arn, moved)
	if after, err := e.Service.Catalog().RecoveryPointByARN(ctx, arn); err != nil || after.ObjectCount != rp.ObjectCount {
		t.Errorf("versions in the capture log after a scan: %d, before %d (%v)", after.ObjectCount, rp.ObjectCount, err)
	}

	// The catalog rebuilt from the vault: the window starts at the log's
	// start (or, once a scan committed, at the retention's).
	e.Stop(t)
	for _, f := range []string{"catalog.db", "catalog.db-wal", "catalog.db-shm"} {
		if err := os.Remove(filepath.Join(e.DataDir, f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
	}
	e.Restart(t)
	e2, _, _ := window(t, e, vault, arn)
	if e2.Before(earliest.Add(-2*time.Millisecond)) || e2.After(moved.Add(-24*time.Hour+2*time.Millisecond)) {
		t.Fatalf("EarliestRestorableTime after the rebuild %s, want %s to %s", e2, earliest, moved.Add(-24*time.Hour))
	}
	refusedBefore(t, e, arn, earliest)
}

// refusedBefore checks that a restore just before earliest is refused
// naming the window.
func refusedBefore(t *testing.T, e *coffertest.Env, arn string, earliest time.Time) {
	t.Helper()
	_, err := e.Client.StartRestoreJob(ctx, &backup.StartRestoreJobInput{RecoveryPointArn: aws.String(arn),
		IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x"), Metadata: map[string]string{"DestinationBucketName": "x-never",
			"NewBucket": "true", "RestoreTime": earliest.Add(-time.Millisecond).UTC().Format(time.RFC3339Nano)}})
	var ipe *types.InvalidParameterValueException
	if !errors.As(err, &ipe) || !strings.Contains(err.Error(), "restorable window") {
		t.Fatalf("restore before the window: %v, want InvalidParameterValueException naming the window", err)
	}
}
