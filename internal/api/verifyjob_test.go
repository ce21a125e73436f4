package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/minio/minio-go/v7"

	"github.com/cofferbackup/coffer/internal/backup/backuptest"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/coffertest"
	"github.com/cofferbackup/coffer/internal/service"
)

// verificationJob is a verification job as DescribeVerificationJob and
// ListVerificationJobs answer it.
type verificationJob struct {
	VerificationJobId, BackupVaultName, State, StatusMessage string
	OK                                                       bool
	ReadDataPercent                                          float64
	Seed                                                     uint64
	RecoveryPoints, ObjectsRead, BytesRead, ProblemCount     int64
	ProblemKinds                                             map[string]int64
	AffectedRecoveryPoints                                   []string
	Problems                                                 []struct{ Kind, RecoveryPointID, RecoveryPointArn, Detail string }
}

func createVaultNamed(t *testing.T, e *coffertest.Env, name string) {
	t.Helper()
	if _, err := e.Client.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
}

func startVerification(t *testing.T, e *coffertest.Env, vault string, pct float64) string {
	t.Helper()
	status, body := extension(t, e, http.MethodPost, "/verification-jobs", map[string]any{"BackupVaultName": vault, "ReadDataPercent": pct})
	var out struct{ VerificationJobId string }
	if err := json.Unmarshal(body, &out); status != http.StatusOK || err != nil || out.VerificationJobId == "" {
		t.Fatalf("start verification of %s: %d %s", vault, status, body)
	}
	return out.VerificationJobId
}

func describeVerification(t *testing.T, e *coffertest.Env, id string) verificationJob {
	t.Helper()
	status, body := extension(t, e, http.MethodGet, "/verification-jobs/"+id, nil)
	var out struct{ VerificationJob verificationJob }
	if err := json.Unmarshal(body, &out); status != http.StatusOK || err != nil {
		t.Fatalf("describe verification %s: %d %s", id, status, body)
	}
	return out.VerificationJob
}

// waitVerification polls job id until it ends (COMPLETED or FAILED).
func waitVerification(t *testing.T, e *coffertest.Env, id string) verificationJob {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		j := describeVerification(t, e, id)
		if j.State == "COMPLETED" || j.State == "FAILED" {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("verification %s still %s: %s", id, j.State, j.StatusMessage)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func verify(t *testing.T, e *coffertest.Env, vault string, pct float64) verificationJob {
	t.Helper()
	return waitVerification(t, e, startVerification(t, e, vault, pct))
}

// diskPacks lists the data pack files (kopia's p blobs) of every vault on
// the server's disk.
func diskPacks(t *testing.T, e *coffertest.Env) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join(e.DataDir, "vaults"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(e.DataDir, path)
		if parts := strings.Split(rel, string(filepath.Separator)); len(parts) > 3 && parts[2] == "repo" && strings.HasPrefix(parts[3], "p") {
			out = append(out, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// newPacks backs resource up into vault and returns its recovery point
// and the pack files the backup wrote.
func backupNewPacks(t *testing.T, e *coffertest.Env, vault, bucket string) (string, []string) {
	t.Helper()
	before := diskPacks(t, e)
	rp := backupOn(t, e, vault, "arn:aws:s3:::"+bucket)
	var added []string
	for _, p := range diskPacks(t, e) {
		if !slices.Contains(before, p) {
			added = append(added, p)
		}
	}
	if len(added) == 0 {
		t.Fatalf("the backup of %s wrote no pack file", bucket)
	}
	return rp, added
}

// putRandom puts n objects of size random (incompressible) bytes.
func putRandom(t *testing.T, mc *minio.Client, bucket, prefix string, n, size int) map[string][]byte {
	t.Helper()
	want := map[string][]byte{}
	for i := range n {
		key := fmt.Sprintf("%s%03d", prefix, i)
		want[key] = backuptest.Bytes(uint64(i+1), size)
		if _, err := mc.PutObject(ctx, bucket, key, bytes.NewReader(want[key]), int64(size), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return want
}

// corruptMiddle overwrites 64 bytes in the middle of b, keeping its size.
func corruptMiddle(b []byte) []byte {
	out := slices.Clone(b)
	for i := len(out) / 2; i < len(out)/2+64 && i < len(out); i++ {
		out[i] ^= 0x5a
	}
	return out
}

// checkLanded restores rp into a new bucket, wants the job FAILED (not
// COMPLETED), and checks that every object that landed holds the source's
// bytes. It returns how many landed.
func checkFailedRestore(t *testing.T, e *coffertest.Env, rp string, want map[string][]byte) int {
	t.Helper()
	mc := e.S3.Client(t)
	dest, id := coffertest.StartRestoreToNewBucket(t, e.Client, rp, nil)
	j := coffertest.WaitRestoreJob(t, e.Client, id)
	if j.Status != types.RestoreJobStatusFailed {
		t.Fatalf("restore of a recovery point with a corrupt pack ended %s: %q", j.Status, aws.ToString(j.StatusMessage))
	}
	landed := 0
	for o := range mc.ListObjects(ctx, dest, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			if strings.Contains(o.Err.Error(), "NoSuchBucket") {
				break
			}
			t.Fatal(o.Err)
		}
		obj, err := mc.GetObject(ctx, dest, o.Key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(obj)
		obj.Close()
		if err != nil {
			t.Fatal(err)
		}
		if w, ok := want[o.Key]; !ok || !bytes.Equal(got, w) {
			t.Errorf("the failed restore wrote wrong bytes to %s (%d bytes, want %d)", o.Key, len(got), len(w))
		}
		landed++
	}
	t.Logf("failed restore: %q; %d of %d objects landed, all right", aws.ToString(j.StatusMessage), landed, len(want))
	return landed
}

// TestVerificationJobsOnDisk: verification jobs of a disk vault: a clean
// vault verifies OK; ListVerificationJobs filters by vault and pages; once
// one pack file of the second backup is corrupted in place, a
// verification reading all data completes with problems naming that
// backup's recovery point ARN only, keeps its list of problems sealed in
// the catalog, and a restore of that recovery point ends FAILED without
// writing a wrong byte.
func TestVerificationJobsOnDisk(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{})
	mc := e.S3.Client(t)
	createVaultNamed(t, e, "vj")
	createVaultNamed(t, e, "other")
	first, second := e.S3.NewBucket(t, true), e.S3.NewBucket(t, true)
	coffertest.FillBucket(t, mc, first, "f/", 3, 5000)
	want := putRandom(t, mc, second, "s/", 6, 100_000)
	rpFirst, _ := backupNewPacks(t, e, "vj", first)
	rpSecond, packs := backupNewPacks(t, e, "vj", second)

	clean := verify(t, e, "vj", 0)
	if clean.State != "COMPLETED" || !clean.OK || clean.RecoveryPoints != 2 || clean.ObjectsRead != 0 || clean.Seed == 0 {
		t.Fatalf("clean vault: %+v", clean)
	}
	other := verify(t, e, "other", 100)
	if !other.OK || other.RecoveryPoints != 0 {
		t.Fatalf("empty vault: %+v", other)
	}
	status, body := extension(t, e, http.MethodGet, "/verification-jobs?"+url.Values{"backupVaultName": {"vj"}, "maxResults": {"1"}}.Encode(), nil)
	var page struct {
		VerificationJobs []verificationJob
		NextToken        string
	}
	if err := json.Unmarshal(body, &page); status != http.StatusOK || err != nil || len(page.VerificationJobs) != 1 ||
		page.VerificationJobs[0].VerificationJobId != clean.VerificationJobId || page.NextToken != "" {
		t.Fatalf("list of vault vj: %d %s", status, body)
	}
	_, body = extension(t, e, http.MethodGet, "/verification-jobs?maxResults=1", nil)
	if err := json.Unmarshal(body, &page); err != nil || len(page.VerificationJobs) != 1 || page.NextToken == "" {
		t.Fatalf("first page of all: %s", body)
	}

	b, err := os.ReadFile(packs[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(packs[0], corruptMiddle(b), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := verify(t, e, "vj", 100)
	if bad.State != "COMPLETED" || bad.OK || bad.ProblemKinds["unreadable"] == 0 || !slices.Equal(bad.AffectedRecoveryPoints, []string{rpSecond}) ||
		len(bad.Problems) == 0 || bad.Problems[0].RecoveryPointArn != rpSecond {
		t.Fatalf("vault with a corrupt pack (first %s, second %s): %+v", rpFirst, rpSecond, bad)
	}
	if strings.Contains(bad.StatusMessage, "s/") {
		t.Fatalf("status message names a key: %q", bad.StatusMessage)
	}
	row, err := e.Service.JobStore().VerificationJob(ctx, bad.VerificationJobId)
	if err != nil || !strings.HasPrefix(row.Problems, "v1:") || strings.Contains(row.Problems, "unreadable") || strings.Contains(row.Stats, "Problems\"") {
		t.Fatalf("catalog row: %+v %v", row, err)
	}
	checkFailedRestore(t, e, rpSecond, want)
}

// TestVerificationWaitsForMaintenance: a verification queued while
// maintenance holds its vault waits CREATED, saying so, and runs once the
// maintenance ended.
func TestVerificationWaitsForMaintenance(t *testing.T) {
	held, release := make(chan struct{}, 1), make(chan struct{})
	e := coffertest.Start(t, coffertest.Options{TestHooks: &service.TestHooks{MaintenanceHeld: func(ctx context.Context, _ string) {
		select {
		case held <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-ctx.Done():
		}
	}}})
	createVaultNamed(t, e, "mv")
	src := e.S3.NewBucket(t, true)
	coffertest.FillBucket(t, e.S3.Client(t), src, "m/", 2, 1000)
	backupOn(t, e, "mv", "arn:aws:s3:::"+src)
	if status, body := extension(t, e, http.MethodPut, "/maintenance-jobs", map[string]any{"BackupVaultName": "mv"}); status != http.StatusOK {
		t.Fatalf("start maintenance: %d %s", status, body)
	}
	select {
	case <-held:
	case <-time.After(30 * time.Second):
		t.Fatal("maintenance did not hold the vault")
	}
	id := startVerification(t, e, "mv", 100)
	deadline := time.Now().Add(20 * time.Second)
	for j := describeVerification(t, e, id); !strings.Contains(j.StatusMessage, "maintenance"); j = describeVerification(t, e, id) {
		if j.State != "CREATED" || time.Now().After(deadline) {
			t.Fatalf("verification beside maintenance: %+v", j)
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(release)
	if j := waitVerification(t, e, id); j.State != "COMPLETED" || !j.OK || j.RecoveryPoints != 1 {
		t.Fatalf("verification after maintenance: %+v", j)
	}
}

// TestVerificationOfS3VaultWithCorruptPack: an S3-backed vault on MinIO
// (a bucket without Object Lock): one pack object overwritten with
// damaged bytes is found by a verification reading the data, one pack
// object deleted by one that does not; both name the recovery point that
// used them by ARN, and a restore of it ends FAILED with every byte that
// landed right.
func TestVerificationOfS3VaultWithCorruptPack(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{})
	mc := e.S3.Client(t)
	store := e.S3.NewBucket(t, false)
	status, body := extension(t, e, http.MethodPut, "/backup-vaults/s3bad", map[string]any{"StorageLocation": "s3://default/" + store + "/v"})
	if status != http.StatusOK {
		t.Fatalf("create: %d %s", status, body)
	}
	packs := func() map[string]int64 {
		out := map[string]int64{}
		for o := range mc.ListObjects(ctx, store, minio.ListObjectsOptions{Prefix: "v/", Recursive: true}) {
			if o.Err != nil {
				t.Fatal(o.Err)
			}
			if i := strings.LastIndex(o.Key, "/"); strings.HasPrefix(o.Key[i+1:], "p") {
				out[o.Key] = o.Size
			}
		}
		return out
	}
	first, second := e.S3.NewBucket(t, true), e.S3.NewBucket(t, true)
	putRandom(t, mc, first, "f/", 2, 10_000)
	want := putRandom(t, mc, second, "s/", 5, 100_000)
	rpFirst := backupOn(t, e, "s3bad", "arn:aws:s3:::"+first)
	before := packs()
	rpSecond := backupOn(t, e, "s3bad", "arn:aws:s3:::"+second)
	var added []string
	for k := range packs() {
		if _, ok := before[k]; !ok {
			added = append(added, k)
		}
	}
	if len(added) != 1 {
		t.Fatalf("the second backup wrote packs %v, want one", added)
	}
	key := added[0]
	obj, err := mc.GetObject(ctx, store, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	orig, err := io.ReadAll(obj)
	obj.Close()
	if err != nil {
		t.Fatal(err)
	}
	bad := corruptMiddle(orig)
	if _, err := mc.PutObject(ctx, store, key, bytes.NewReader(bad), int64(len(bad)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	j := verify(t, e, "s3bad", 100)
	if j.State != "COMPLETED" || j.OK || j.ProblemKinds["unreadable"] == 0 || !slices.Equal(j.AffectedRecoveryPoints, []string{rpSecond}) {
		t.Fatalf("S3 vault with an overwritten pack (first %s): %+v", rpFirst, j)
	}
	checkFailedRestore(t, e, rpSecond, want)

	if err := mc.RemoveObject(ctx, store, key, minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	j = verify(t, e, "s3bad", 0)
	if j.State != "COMPLETED" || j.OK || j.ProblemKinds["missing-pack"] == 0 || !slices.Equal(j.AffectedRecoveryPoints, []string{rpSecond}) {
		t.Fatalf("S3 vault with a deleted pack: %+v", j)
	}
	if landed := checkFailedRestore(t, e, rpSecond, want); landed >= len(want) {
		t.Fatalf("every object of a recovery point whose pack is gone landed")
	}
}

// TestVerificationJobTakeOver: on each catalog engine, a verification
// left RUNNING by a process that died is taken over at the next start,
// runs again from the start and completes, saying so; its seed (beyond
// 2^63) and read share are kept.
func TestVerificationJobTakeOver(t *testing.T) {
	for _, engine := range coffertest.Engines {
		t.Run(engine, func(t *testing.T) {
			e := coffertest.Start(t, coffertest.Options{Database: coffertest.Database(t, engine)})
			createVaultNamed(t, e, "tv")
			src := e.S3.NewBucket(t, true)
			putRandom(t, e.S3.Client(t), src, "t/", 2, 3000)
			rp := backupOn(t, e, "tv", "arn:aws:s3:::"+src)
			db := e.Service.Catalog()
			jobStore := e.Service.JobStore()
			v, err := db.Vault(ctx, "tv")
			if err != nil {
				t.Fatal(err)
			}
			j := jobstore.VerificationJob{ID: "ghost-verification", VaultName: "tv", VaultARN: v.ARN, State: "CREATED",
				ReadDataPercent: 100, Seed: 1<<63 + 12345, CreatedAt: time.Now()}
			if err := jobStore.InsertVerificationJob(ctx, j, nil); err != nil {
				t.Fatal(err)
			}
			j.State, j.Owner, j.StartedAt = "RUNNING", "ghost-process", time.Now()
			if ok, err := jobStore.TransitionVerificationJobTx(ctx, j, nil, "CREATED"); !ok || err != nil {
				t.Fatalf("claim by hand: %v %v", ok, err)
			}
			e.Restart(t)
			got := waitVerification(t, e, j.ID)
			if got.State != "COMPLETED" || !got.OK || got.Seed != j.Seed || got.ReadDataPercent != 100 || got.ObjectsRead != 2 ||
				!strings.HasPrefix(got.StatusMessage, "run 2, taken over") {
				t.Fatalf("taken-over verification (rp %s): %+v", rp, got)
			}
		})
	}
}

// TestVerificationOfContinuousRecoveryPoint: a verification checks a
// continuous recovery point too (its state at LatestRestorableTime, every
// version read back with --read-data 100), and names it by ARN once a
// pack the capture wrote is damaged.
func TestVerificationOfContinuousRecoveryPoint(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{Configure: func(c *service.Config) {
		c.JanitorInterval, c.ProtectInterval, c.EventsInterval, c.ReconcileInterval = time.Second, time.Second, time.Second, time.Hour
	}})
	mc := e.S3.Client(t)
	createVaultNamed(t, e, "cv")
	bucket := e.S3.NewBucket(t, true)
	putRandom(t, mc, bucket, "c/", 4, 50_000)
	before := diskPacks(t, e)
	arn := protectContinuously(t, e, "cv", bucket)
	deadline := time.Now().Add(time.Minute)
	for latestRestorable(t, e, "cv", arn).IsZero() {
		if time.Now().After(deadline) {
			t.Fatal("no LatestRestorableTime")
		}
		time.Sleep(100 * time.Millisecond)
	}
	clean := verify(t, e, "cv", 100)
	if clean.State != "COMPLETED" || !clean.OK || clean.RecoveryPoints != 1 || clean.ObjectsRead < 4 || clean.BytesRead < 200_000 {
		t.Fatalf("clean continuous recovery point: %+v", clean)
	}
	var biggest string
	var size int64
	for _, p := range diskPacks(t, e) {
		if slices.Contains(before, p) {
			continue
		}
		if fi, err := os.Stat(p); err == nil && fi.Size() > size {
			biggest, size = p, fi.Size()
		}
	}
	if size < 100_000 {
		t.Fatalf("the capture wrote no pack holding the data (biggest %s: %d bytes)", biggest, size)
	}
	b, err := os.ReadFile(biggest)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(biggest, corruptMiddle(b), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := verify(t, e, "cv", 100)
	if bad.State != "COMPLETED" || bad.OK || !slices.Equal(bad.AffectedRecoveryPoints, []string{arn}) {
		t.Fatalf("continuous recovery point with a damaged pack (%s): %+v", arn, bad)
	}
}

// TestVerificationOfVaultThatCannotOpen: a verification of a vault whose
// directory was removed while it was open, or of one whose directory is
// a file after a restart, ends FAILED with a message, at once.
func TestVerificationOfVaultThatCannotOpen(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{})
	createVaultNamed(t, e, "vj")
	src := e.S3.NewBucket(t, true)
	putRandom(t, e.S3.Client(t), src, "o/", 2, 1000)
	_, packs := backupNewPacks(t, e, "vj", src)
	if j := verify(t, e, "vj", 100); !j.OK {
		t.Fatalf("clean vault: %+v", j)
	}

	// The open vault vj whose directory is removed: FAILED at once, not
	// after kopia's retries.
	rel, _ := filepath.Rel(filepath.Join(e.DataDir, "vaults"), packs[0])
	if err := os.RemoveAll(filepath.Join(e.DataDir, "vaults", strings.Split(rel, string(filepath.Separator))[0])); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if gone := verify(t, e, "vj", 0); gone.State != "FAILED" || !strings.Contains(gone.StatusMessage, "no repository") || time.Since(start) > 15*time.Second {
		t.Fatalf("open vault whose directory was removed, after %s: %+v", time.Since(start), gone)
	}

	// A vault whose directory became a file: after a restart the job
	// cannot open it.
	before, _ := filepath.Glob(filepath.Join(e.DataDir, "vaults", "*"))
	createVaultNamed(t, e, "broken")
	after, _ := filepath.Glob(filepath.Join(e.DataDir, "vaults", "*"))
	var dir string
	for _, d := range after {
		if !slices.Contains(before, d) {
			dir = d
		}
	}
	e.Stop(t)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, []byte("not a vault"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.Restart(t)
	gone := verify(t, e, "broken", 0)
	if gone.State != "FAILED" || !strings.Contains(gone.StatusMessage, "could not be opened") {
		t.Fatalf("vault that cannot be opened: %+v", gone)
	}
	t.Logf("vault that cannot be opened: %s", gone.StatusMessage)
}
