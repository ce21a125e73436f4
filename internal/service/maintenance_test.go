package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/minio/minio-go/v7"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/coffertest"
	"github.com/cofferbackup/coffer/internal/service"
)

// maintenanceJob is a maintenance job as the API extension answers it.
type maintenanceJob struct {
	MaintenanceJobId, BackupVaultName, BackupVaultArn, State, StatusMessage, Trigger string
	CreationDate, InitiationDate, CompletionDate                                     *float64
	MaintenanceStats                                                                 stats
}

// stats are a run's vaultmaint.Stats as JSON: counters, and a few
// fields that are not (owner, times).
type stats map[string]any

// n returns counter key (-1 when absent).
func (s stats) n(key string) int64 {
	if v, ok := s[key].(float64); ok {
		return int64(v)
	}
	return -1
}

// callExtension makes one signed call of coffer's API extensions and
// returns the AWS error code ("" on success).
func callExtension(t *testing.T, e *coffertest.Env, method, path string, in, out any) string {
	t.Helper()
	body := []byte{}
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, e.Endpoint+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if err := coffertest.Sign(req, e.Creds, body); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		return resp.Header.Get("X-Amzn-Errortype")
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
	return ""
}

func describeMaintenance(t *testing.T, e *coffertest.Env, id string) maintenanceJob {
	t.Helper()
	var j maintenanceJob
	if code := callExtension(t, e, http.MethodGet, "/maintenance-jobs/"+id, nil, &j); code != "" {
		t.Fatalf("DescribeMaintenanceJob %s: %s", id, code)
	}
	return j
}

func listMaintenance(t *testing.T, e *coffertest.Env, vault, state string) []maintenanceJob {
	t.Helper()
	q := url.Values{"backupVaultName": {vault}}
	if state != "" {
		q.Set("state", state)
	}
	var out struct{ MaintenanceJobs []maintenanceJob }
	if code := callExtension(t, e, http.MethodGet, "/maintenance-jobs?"+q.Encode(), nil, &out); code != "" {
		t.Fatalf("ListMaintenanceJobs: %s", code)
	}
	return out.MaintenanceJobs
}

func startMaintenance(t *testing.T, e *coffertest.Env, vault string) maintenanceJob {
	t.Helper()
	var j maintenanceJob
	if code := callExtension(t, e, http.MethodPut, "/maintenance-jobs", map[string]string{"BackupVaultName": vault}, &j); code != "" {
		t.Fatalf("StartMaintenanceJob %s: %s", vault, code)
	}
	return j
}

func stopMaintenance(t *testing.T, e *coffertest.Env, id string) {
	t.Helper()
	if code := callExtension(t, e, http.MethodPost, "/maintenance-jobs/"+id, nil, nil); code != "" {
		t.Fatalf("StopMaintenanceJob %s: %s", id, code)
	}
}

// onlyMaintenanceJob waits for the vault's one maintenance job.
func onlyMaintenanceJob(t *testing.T, e *coffertest.Env, vault string) maintenanceJob {
	t.Helper()
	var jobs []maintenanceJob
	waitFor(t, "a maintenance job of vault "+vault, func() (bool, string) {
		jobs = listMaintenance(t, e, vault, "")
		return len(jobs) == 1, fmt.Sprintf("%d jobs", len(jobs))
	})
	return jobs[0]
}

// waitMaintenance polls job id until it is in state.
func waitMaintenance(t *testing.T, e *coffertest.Env, id, state string) maintenanceJob {
	t.Helper()
	var j maintenanceJob
	waitFor(t, "maintenance job "+state, func() (bool, string) {
		j = describeMaintenance(t, e, id)
		return j.State == state, j.State + " " + j.StatusMessage
	})
	return j
}

// checkEvents compares a job's logged state changes with want.
func checkEvents(t *testing.T, e *coffertest.Env, id string, want string) {
	t.Helper()
	evs, _, err := e.Service.Catalog().ListJobEvents(ctx, catalog.JobEventFilter{JobID: id}, catalog.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range evs {
		if ev.Kind != "maintenance" {
			t.Errorf("event of kind %q", ev.Kind)
		}
		got = append(got, fmt.Sprintf("%s>%s", ev.From, ev.To))
	}
	if strings.Join(got, " ") != want {
		t.Fatalf("job events of %s: %q, want %q", id, strings.Join(got, " "), want)
	}
}

// vaultSize is the bytes a vault's directory holds.
func vaultSize(t *testing.T, e *coffertest.Env, name string) int64 {
	t.Helper()
	v, err := e.Service.Vault(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	err = filepath.WalkDir(filepath.Join(e.DataDir, "vaults", v.ID), func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		n += info.Size()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// putRandom puts n objects of size random bytes into bucket.
func putRandom(t *testing.T, e *coffertest.Env, bucket string, n, size int) {
	t.Helper()
	mc := e.S3.Client(t)
	rng := rand.New(rand.NewPCG(uint64(n), uint64(size)))
	for i := range n {
		data := make([]byte, size)
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		if _, err := mc.PutObject(ctx, bucket, fmt.Sprintf("random/%04d", i), bytes.NewReader(data), int64(size), minio.PutObjectOptions{}); err != nil {
			t.Fatalf("put random object: %v", err)
		}
	}
}

// soleWriter reports whether e's service is its vaults' only writer
// (SQLite), so that maintenance reclaims space at once.
func soleWriter(e *coffertest.Env) bool { return e.Service.Catalog().Engine() == catalog.SQLite }

func deleteRecoveryPoint(t *testing.T, e *coffertest.Env, vault string, arn *string) {
	t.Helper()
	if _, err := e.Client.DeleteRecoveryPoint(ctx, &backup.DeleteRecoveryPointInput{BackupVaultName: aws.String(vault), RecoveryPointArn: arn}); err != nil {
		t.Fatalf("DeleteRecoveryPoint: %v", err)
	}
}

func TestDeleteQueuesMaintenanceThatReclaimsSpace(t *testing.T) {
	forEachEngine(t, testDeleteQueuesMaintenanceThatReclaimsSpace)
}

// A deleted recovery point's space is reclaimed by a maintenance job that
// the deletion queued, listed with what it did.
func testDeleteQueuesMaintenanceThatReclaimsSpace(t *testing.T, db string) {
	e := coffertest.Start(t, coffertest.Options{Database: db})
	mc := e.S3.Client(t)
	keep := e.S3.NewBucket(t, true)
	want := coffertest.FillBucket(t, mc, keep, "keep/", 10, 4000)
	doomed := e.S3.NewBucket(t, true)
	putRandom(t, e, doomed, 8, 256<<10) // incompressible: its space shows
	createVault(t, e.Client, "reclaim")
	keepJob := startBackup(t, e.Client, "reclaim", keep, 0)
	doomedJob := startBackup(t, e.Client, "reclaim", doomed, 0)
	completed(t, e, "backup to keep", keepJob)
	completed(t, e, "backup to delete", doomedJob)
	if jobs := listMaintenance(t, e, "reclaim", ""); len(jobs) != 0 {
		t.Fatalf("maintenance jobs before any deletion: %+v", jobs)
	}

	before := vaultSize(t, e, "reclaim")
	deleteRecoveryPoint(t, e, "reclaim", doomedJob.RecoveryPointArn)
	m := onlyMaintenanceJob(t, e, "reclaim")
	if m.Trigger != service.TriggerRecoveryPointDeleted || m.CreationDate == nil {
		t.Fatalf("maintenance job after a deletion: %+v", m)
	}
	done := waitMaintenance(t, e, m.MaintenanceJobId, "COMPLETED")
	after := vaultSize(t, e, "reclaim")
	t.Logf("vault size %d -> %d bytes; stats %v", before, after, done.MaintenanceStats)
	if done.MaintenanceStats.n("LiveRecoveryPoints") != 1 || done.InitiationDate == nil || done.CompletionDate == nil {
		t.Fatalf("maintenance after a deletion: %+v", done)
	}
	// The sole writer of its vaults (SQLite) reclaims at once; where
	// processes share the vaults (PostgreSQL), kopia's safety margins keep
	// what was just deleted for a while (docs/format.md): the run finds it
	// but keeps it as recent.
	found := done.MaintenanceStats.n("DeletedContents") > 0 || done.MaintenanceStats.n("RecentContents") > 0
	if !found || soleWriter(e) && (after >= before-(1<<20) || done.MaintenanceStats.n("FreedBytes") <= 0) {
		t.Fatalf("maintenance reclaimed too little: vault %d -> %d bytes, job %+v", before, after, done)
	}
	listed := listMaintenance(t, e, "reclaim", "COMPLETED")
	if len(listed) != 1 || listed[0].MaintenanceJobId != m.MaintenanceJobId || listed[0].MaintenanceStats.n("FreedBytes") != done.MaintenanceStats.n("FreedBytes") {
		t.Fatalf("listed COMPLETED: %+v", listed)
	}
	if running := listMaintenance(t, e, "reclaim", "RUNNING"); len(running) != 0 {
		t.Fatalf("listed RUNNING: %+v", running)
	}
	checkEvents(t, e, m.MaintenanceJobId, ">CREATED CREATED>RUNNING RUNNING>COMPLETED")
	restoreAndCompare(t, e, aws.ToString(keepJob.RecoveryPointArn), want)

	bad := []struct {
		name, method, path string
		in                 any
		code               string
	}{
		{"stop a finished job", http.MethodPost, "/maintenance-jobs/" + m.MaintenanceJobId, nil, "InvalidRequestException"},
		{"describe an unknown job", http.MethodGet, "/maintenance-jobs/NOPE", nil, "ResourceNotFoundException"},
		{"stop an unknown job", http.MethodPost, "/maintenance-jobs/NOPE", nil, "ResourceNotFoundException"},
		{"start without a vault", http.MethodPut, "/maintenance-jobs", map[string]string{}, "MissingParameterValueException"},
		{"start on an unknown vault", http.MethodPut, "/maintenance-jobs", map[string]string{"BackupVaultName": "nope"}, "ResourceNotFoundException"},
		{"list by a bad state", http.MethodGet, "/maintenance-jobs?state=PARTIAL", nil, "InvalidParameterValueException"},
		{"list with a bad token", http.MethodGet, "/maintenance-jobs?nextToken=x", nil, "InvalidParameterValueException"},
	}
	for _, tt := range bad {
		if code := callExtension(t, e, tt.method, tt.path, tt.in, nil); code != tt.code {
			t.Errorf("%s: %q, want %s", tt.name, code, tt.code)
		}
	}
}

func TestMaintenanceWaitsBehindRestoreAndStops(t *testing.T) {
	forEachEngine(t, testMaintenanceWaitsBehindRestoreAndStops)
}

// A maintenance job queued while a restore runs on its vault waits
// CREATED, saying why, absorbs further requests, and StopMaintenanceJob
// aborts it at once; the restore is unaffected.
func testMaintenanceWaitsBehindRestoreAndStops(t *testing.T, db string) {
	restores := newHold()
	e := coffertest.Start(t, coffertest.Options{Database: db, TestHooks: &service.TestHooks{RestoreRunning: restores.wait}})
	t.Cleanup(restores.open)
	mc := e.S3.Client(t)
	src := e.S3.NewBucket(t, true)
	want := coffertest.FillBucket(t, mc, src, "src/", 10, 4000)
	doomed := e.S3.NewBucket(t, true)
	coffertest.FillBucket(t, mc, doomed, "doomed/", 3, 1000)
	createVault(t, e.Client, "behind")
	srcJob := startBackup(t, e.Client, "behind", src, 0)
	doomedJob := startBackup(t, e.Client, "behind", doomed, 0)
	completed(t, e, "backup to restore", srcJob)
	completed(t, e, "backup to delete", doomedJob)
	restoreID, dest := startRestore(t, e, srcJob.RecoveryPointArn)
	restores.waitEntered(t, "the restore")

	deleteRecoveryPoint(t, e, "behind", doomedJob.RecoveryPointArn)
	m := onlyMaintenanceJob(t, e, "behind")
	const why = `waiting for running jobs of backup vault "behind" to finish`
	waitFor(t, "maintenance CREATED behind the restore", func() (bool, string) {
		j := describeMaintenance(t, e, m.MaintenanceJobId)
		return j.State == "CREATED" && j.StatusMessage == why, j.State + " " + j.StatusMessage
	})
	if again := startMaintenance(t, e, "behind"); again.MaintenanceJobId != m.MaintenanceJobId {
		t.Fatalf("a request while one is queued made job %s, want it absorbed by %s", again.MaintenanceJobId, m.MaintenanceJobId)
	}
	start := time.Now()
	stopMaintenance(t, e, m.MaintenanceJobId)
	if j := describeMaintenance(t, e, m.MaintenanceJobId); j.State != "ABORTED" || j.CompletionDate == nil || j.InitiationDate != nil {
		t.Fatalf("stopped waiting job: %+v", j)
	}
	t.Logf("stop took effect in %s", time.Since(start).Round(time.Millisecond))
	checkEvents(t, e, m.MaintenanceJobId, ">CREATED CREATED>ABORTED")

	restores.open()
	if r := e.WaitRestore(t, restoreID); r.Status != types.RestoreJobStatusCompleted {
		t.Fatalf("restore: %s %q", r.Status, aws.ToString(r.StatusMessage))
	}
	coffertest.CheckBucket(t, mc, dest, want)
	if j := describeMaintenance(t, e, m.MaintenanceJobId); j.State != "ABORTED" {
		t.Fatalf("stopped job ran after all: %+v", j)
	}
}

func TestStopRunningMaintenance(t *testing.T) { forEachEngine(t, testStopRunningMaintenance) }

// Stopping a running maintenance job ends it ABORTED; one more job may
// queue while it runs (a second request is absorbed by that one), which
// then reclaims the space; every recovery point restores byte for byte.
func testStopRunningMaintenance(t *testing.T, db string) {
	maint := newHold()
	e := coffertest.Start(t, coffertest.Options{Database: db, TestHooks: &service.TestHooks{MaintenanceHeld: maint.wait}})
	t.Cleanup(maint.open)
	mc := e.S3.Client(t)
	a := e.S3.NewBucket(t, true)
	wantA := coffertest.FillBucket(t, mc, a, "a/", 10, 4000)
	b := e.S3.NewBucket(t, true)
	wantB := coffertest.FillBucket(t, mc, b, "b/", 6, 64<<10)
	c := e.S3.NewBucket(t, true)
	coffertest.FillBucket(t, mc, c, "c/", 6, 64<<10)
	createVault(t, e.Client, "stop")
	jobA, jobB, jobC := startBackup(t, e.Client, "stop", a, 0), startBackup(t, e.Client, "stop", b, 0), startBackup(t, e.Client, "stop", c, 0)
	completed(t, e, "backup a", jobA)
	completed(t, e, "backup b", jobB)
	completed(t, e, "backup c", jobC)

	deleteRecoveryPoint(t, e, "stop", jobC.RecoveryPointArn)
	first := onlyMaintenanceJob(t, e, "stop")
	maint.waitEntered(t, "the maintenance job")
	if j := describeMaintenance(t, e, first.MaintenanceJobId); j.State != "RUNNING" || j.InitiationDate == nil {
		t.Fatalf("maintenance holding its vault: %+v", j)
	}
	second := startMaintenance(t, e, "stop")
	if second.MaintenanceJobId == first.MaintenanceJobId || second.State != "CREATED" || second.Trigger != service.TriggerOnDemand {
		t.Fatalf("request while one runs: %+v", second)
	}
	if third := startMaintenance(t, e, "stop"); third.MaintenanceJobId != second.MaintenanceJobId {
		t.Fatalf("second request while one is queued made %s, want %s", third.MaintenanceJobId, second.MaintenanceJobId)
	}

	stopMaintenance(t, e, first.MaintenanceJobId)
	stopped := waitMaintenance(t, e, first.MaintenanceJobId, "ABORTED")
	if !strings.Contains(stopped.StatusMessage, "StopMaintenanceJob") {
		t.Fatalf("stopped job's message: %q", stopped.StatusMessage)
	}
	checkEvents(t, e, first.MaintenanceJobId, ">CREATED CREATED>RUNNING RUNNING>ABORTED")
	maint.open()
	done := waitMaintenance(t, e, second.MaintenanceJobId, "COMPLETED")
	if (soleWriter(e) && done.MaintenanceStats.n("FreedBytes") <= 0) || done.MaintenanceStats.n("LiveRecoveryPoints") != 2 {
		t.Fatalf("the queued job after the stop: %+v", done)
	}
	restoreAndCompare(t, e, aws.ToString(jobA.RecoveryPointArn), wantA)
	restoreAndCompare(t, e, aws.ToString(jobB.RecoveryPointArn), wantB)
}

func TestRestartTakesOverMaintenance(t *testing.T) { forEachEngine(t, testRestartTakesOverMaintenance) }

// Maintenance jobs that a dead process left RUNNING are taken over at the
// next start: one simply runs again; one whose vault has another job
// queued ends ABORTED and the queued one does the work.
func testRestartTakesOverMaintenance(t *testing.T, db string) {
	e := coffertest.Start(t, coffertest.Options{Database: db})
	mc := e.S3.Client(t)
	bucket := e.S3.NewBucket(t, true)
	want := coffertest.FillBucket(t, mc, bucket, "m/", 5, 3000)
	createVault(t, e.Client, "alone")
	createVault(t, e.Client, "crowded")
	jobAlone, jobCrowded := startBackup(t, e.Client, "alone", bucket, 0), startBackup(t, e.Client, "crowded", bucket, 0)
	completed(t, e, "backup into alone", jobAlone)
	completed(t, e, "backup into crowded", jobCrowded)
	cat := e.Service.Catalog()
	jobStore := e.Service.JobStore()
	crash := func(id, vault string) {
		v, err := cat.Vault(ctx, vault)
		if err != nil {
			t.Fatal(err)
		}
		j := jobstore.MaintenanceJob{ID: id, VaultName: vault, VaultARN: v.ARN, State: "CREATED", Trigger: service.TriggerPeriodic, CreatedAt: time.Now()}
		if err := jobStore.InsertMaintenanceJob(ctx, j, nil); err != nil {
			t.Fatal(err)
		}
		j.State, j.StartedAt, j.Owner = "RUNNING", time.Now(), "coffer-dead" // no River job runs it
		if ok, err := jobStore.TransitionMaintenanceJob(ctx, j, "CREATED"); err != nil || !ok {
			t.Fatalf("mark %s running: %v %v", id, ok, err)
		}
	}
	crash("CRASHED-ALONE", "alone")
	crash("CRASHED-CROWDED", "crowded")
	// A job of crowded queued while the dead process ran the crashed one
	// (without its River job: the takeover makes one).
	v, err := cat.Vault(ctx, "crowded")
	if err != nil {
		t.Fatal(err)
	}
	queued := jobstore.MaintenanceJob{ID: "QUEUED-CROWDED", VaultName: "crowded", VaultARN: v.ARN, State: "CREATED",
		Trigger: service.TriggerOnDemand, CreatedAt: time.Now().Add(time.Second)}
	if err := jobStore.InsertMaintenanceJob(ctx, queued, nil); err != nil {
		t.Fatal(err)
	}
	e.Restart(t)
	alone := waitMaintenance(t, e, "CRASHED-ALONE", "COMPLETED")
	if !strings.Contains(alone.StatusMessage, "taken over") {
		t.Fatalf("crashed job after restart: %+v", alone)
	}
	checkEvents(t, e, "CRASHED-ALONE", ">CREATED CREATED>RUNNING RUNNING>CREATED CREATED>RUNNING RUNNING>COMPLETED")
	crowded := waitMaintenance(t, e, "CRASHED-CROWDED", "ABORTED")
	if !strings.Contains(crowded.StatusMessage, "queued for this vault") {
		t.Fatalf("crashed job with another queued after restart: %+v", crowded)
	}
	waitMaintenance(t, e, "QUEUED-CROWDED", "COMPLETED")
	restoreAndCompare(t, e, aws.ToString(jobAlone.RecoveryPointArn), want)
}

// TestPeriodicMaintenanceOfEveryVault: the leader's periodic work queues
// a maintenance job for every vault (also when a leader is elected, as at
// a start), and each completes.
func TestPeriodicMaintenanceOfEveryVault(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{MaintenanceInterval: time.Hour})
	createVault(t, e.Client, "daily-a")
	createVault(t, e.Client, "daily-b")
	e.Restart(t) // the vaults exist when the new leader's periodic work first runs
	for _, name := range []string{"daily-a", "daily-b"} {
		// One per leader start that saw the vault: the first start's
		// leader may have been elected after the vault was created.
		var jobs []maintenanceJob
		waitFor(t, "periodic maintenance of "+name, func() (bool, string) {
			jobs = listMaintenance(t, e, name, "")
			return len(jobs) > 0, fmt.Sprintf("%d jobs", len(jobs))
		})
		for _, j := range jobs {
			if j.Trigger != service.TriggerPeriodic {
				t.Fatalf("periodic maintenance of %s: %+v", name, j)
			}
			if done := waitMaintenance(t, e, j.MaintenanceJobId, "COMPLETED"); done.MaintenanceStats.n("LiveRecoveryPoints") != 0 {
				t.Fatalf("periodic maintenance of empty vault %s: %+v", name, done)
			}
		}
	}
}

// TestStopDuringSweepKeepsRecoveryPoints stops maintenance jobs while
// their sweep runs (the stop is sent as the job starts maintaining): each
// ends ABORTED (or COMPLETED if it finished first), and every live
// recovery point restores byte for byte, also after a later full run.
func TestStopDuringSweepKeepsRecoveryPoints(t *testing.T) {
	var e *coffertest.Env
	stops := make(chan error, 8)
	stopAfter := []time.Duration{0, 30 * time.Millisecond, 150 * time.Millisecond}
	delays := make(chan time.Duration, len(stopAfter))
	for _, d := range stopAfter {
		delays <- d
	}
	hooks := &service.TestHooks{MaintenanceHeld: func(ctx context.Context, vault string) {
		jobs, _, err := e.Service.ListMaintenanceJobs(ctx, jobstore.MaintenanceJobFilter{VaultName: vault, State: "RUNNING"}, catalog.Page{})
		if err != nil || len(jobs) != 1 {
			stops <- fmt.Errorf("running maintenance of %s: %d jobs, %v", vault, len(jobs), err)
			return
		}
		go func() {
			time.Sleep(<-delays) // lands the stop at different points of the run
			stops <- e.Service.StopMaintenanceJob(context.Background(), jobs[0].ID)
		}()
	}}
	e = coffertest.Start(t, coffertest.Options{TestHooks: hooks})
	mc := e.S3.Client(t)
	keep := e.S3.NewBucket(t, true)
	want := coffertest.FillBucket(t, mc, keep, "keep/", 100, 2000)
	createVault(t, e.Client, "sweep")
	keepJob := startBackup(t, e.Client, "sweep", keep, 0)
	completed(t, e, "backup to keep", keepJob)
	ended := map[string]int{}
	for round := range len(stopAfter) {
		doomed := e.S3.NewBucket(t, true)
		coffertest.FillBucket(t, mc, doomed, fmt.Sprintf("doomed%d/", round), 300, 1500)
		putRandom(t, e, doomed, 4, 128<<10)
		doomedJob := startBackup(t, e.Client, "sweep", doomed, 0)
		completed(t, e, "backup to delete", doomedJob)
		deleteRecoveryPoint(t, e, "sweep", doomedJob.RecoveryPointArn)
		var j maintenanceJob
		waitFor(t, "the stopped maintenance job to end", func() (bool, string) {
			jobs := listMaintenance(t, e, "sweep", "")
			if len(jobs) == 0 {
				return false, "no job"
			}
			j = jobs[0]
			return j.State == "ABORTED" || j.State == "COMPLETED", j.State
		})
		if err := <-stops; err != nil && !strings.Contains(err.Error(), "cannot be stopped") {
			t.Fatalf("stop: %v", err)
		}
		ended[j.State]++
		t.Logf("stop after %s: %s, stats %v", stopAfter[round], j.State, j.MaintenanceStats)
		restoreAndCompare(t, e, aws.ToString(keepJob.RecoveryPointArn), want)
	}
	t.Logf("stopped runs ended %v", ended)
	// A full run afterwards reclaims the rest and keeps what is live.
	hooks.MaintenanceHeld = nil
	e.Restart(t)
	full := startMaintenance(t, e, "sweep")
	if done := waitMaintenance(t, e, full.MaintenanceJobId, "COMPLETED"); done.MaintenanceStats.n("LiveRecoveryPoints") != 1 {
		t.Fatalf("full run after stopped ones: %+v", done)
	}
	restoreAndCompare(t, e, aws.ToString(keepJob.RecoveryPointArn), want)
}
