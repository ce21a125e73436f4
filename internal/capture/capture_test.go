package capture_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
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
	"github.com/minio/minio-go/v7/pkg/notification"
	"github.com/minio/minio-go/v7/pkg/tags"

	"github.com/cofferbackup/coffer/internal/backup/backuptest"
	"github.com/cofferbackup/coffer/internal/coffertest"
	"github.com/cofferbackup/coffer/internal/s3events"
	"github.com/cofferbackup/coffer/internal/s3source"
	"github.com/cofferbackup/coffer/internal/service"
	"github.com/cofferbackup/coffer/internal/testserver"
)

var ctx = context.Background()

func TestMain(m *testing.M) { testserver.Main(m) }

// fast makes the leader's continuous work run every second and scans
// every reconcile.
func fast(reconcile time.Duration) func(*service.Config) {
	return func(c *service.Config) {
		c.JanitorInterval, c.ProtectInterval, c.EventsInterval, c.ReconcileInterval = time.Second, time.Second, time.Second, reconcile
	}
}

// relay forwards MinIO's webhook requests to coffer once it runs (MinIO
// must know the URL before coffer, which reads MinIO, starts), keeping
// every body it forwarded.
type relay struct {
	target atomic.Value // coffer's endpoint
	// dropEvery > 0 drops every dropEvery-th request: answered 200 (MinIO
	// thinks it delivered) but never forwarded.
	dropEvery int64
	n         atomic.Int64
	dropped   atomic.Int64
	mu        sync.Mutex
	bodies    [][]byte
	// arrived, when set, records when each webhook's "Key" (bucket/key)
	// reached the relay (the benchmarks).
	arrived map[string]time.Time
	srv     *httptest.Server
}

func newRelay(t testing.TB) *relay {
	r := &relay{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		target, _ := r.target.Load().(string)
		if target == "" {
			http.Error(w, "coffer not up yet", http.StatusServiceUnavailable) // MinIO's queue retries
			return
		}
		body, _ := io.ReadAll(req.Body)
		if r.arrived != nil {
			var ev struct{ Key string }
			if json.Unmarshal(body, &ev) == nil {
				r.mu.Lock()
				if _, ok := r.arrived[ev.Key]; !ok {
					r.arrived[ev.Key] = time.Now()
				}
				r.mu.Unlock()
			}
		}
		if r.dropEvery > 0 && r.n.Add(1)%r.dropEvery == 0 {
			r.dropped.Add(1)
			w.WriteHeader(http.StatusOK)
			return
		}
		out, _ := http.NewRequest(req.Method, target+req.URL.RequestURI(), bytes.NewReader(body))
		out.Header = req.Header.Clone()
		resp, err := http.DefaultClient.Do(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode == 200 {
			r.mu.Lock()
			r.bodies = append(r.bodies, body)
			r.mu.Unlock()
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// protectBucket makes a vault and a plan whose continuous rule protects
// bucket, and waits for the continuous recovery point to be AVAILABLE.
func protectBucket(t testing.TB, e *coffertest.Env, bucket string) string {
	t.Helper()
	return protectBucketFor(t, e, bucket, 35)
}

// protectBucketFor is protectBucket with a retention of days.
func protectBucketFor(t testing.TB, e *coffertest.Env, bucket string, days int64) string {
	t.Helper()
	arn, _ := protectResource(t, e, types.BackupSelection{Resources: []string{"arn:aws:s3:::" + bucket}}, bucket, days)
	byRes, err := e.Client.ListRecoveryPointsByResource(ctx, &backup.ListRecoveryPointsByResourceInput{ResourceArn: aws.String("arn:aws:s3:::" + bucket)})
	if err != nil || len(byRes.RecoveryPoints) != 1 || aws.ToString(byRes.RecoveryPoints[0].RecoveryPointArn) != arn {
		t.Fatalf("ListRecoveryPointsByResource: %+v, %v", byRes, err)
	}
	return arn
}

// protectResource makes a vault and a plan whose continuous rule
// protects what sel selects (bucket) for days, waits for bucket's
// continuous recovery point to be AVAILABLE and returns it and the vault.
func protectResource(t testing.TB, e *coffertest.Env, sel types.BackupSelection, bucket string, days int64) (arn, vault string) {
	t.Helper()
	vault = strings.ReplaceAll(testserver.UniqueBucketName("cv"), ".", "-")
	if _, err := e.Client.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String(vault)}); err != nil {
		t.Fatal(err)
	}
	p, err := e.Client.CreateBackupPlan(ctx, &backup.CreateBackupPlanInput{BackupPlan: &types.BackupPlanInput{
		BackupPlanName: aws.String("continuous"),
		Rules: []types.BackupRuleInput{{RuleName: aws.String("pitr"), TargetBackupVaultName: aws.String(vault),
			ScheduleExpression: aws.String("cron(0 5 ? * * *)"), EnableContinuousBackup: aws.Bool(true),
			Lifecycle: &types.Lifecycle{DeleteAfterDays: aws.Int64(days)}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	sel.SelectionName, sel.IamRoleArn = aws.String("b"), aws.String("arn:aws:iam::000000000000:role/x")
	if _, err := e.Client.CreateBackupSelection(ctx, &backup.CreateBackupSelectionInput{BackupPlanId: p.BackupPlanId,
		BackupSelection: &sel}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "the continuous recovery point to be AVAILABLE", func() bool {
		out, err := e.Client.ListRecoveryPointsByBackupVault(ctx, &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: aws.String(vault)})
		if err != nil {
			t.Fatal(err)
		}
		for _, rp := range out.RecoveryPoints {
			if strings.Contains(aws.ToString(rp.RecoveryPointArn), ":recovery-point:continuous:"+bucket+"-") && rp.Status == types.RecoveryPointStatusAvailable {
				arn = aws.ToString(rp.RecoveryPointArn)
			}
		}
		return arn != ""
	})
	return arn, vault
}

func waitFor(t testing.TB, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// window reads coffer's EarliestRestorableTime and LatestRestorableTime
// of a recovery point (DescribeRecoveryPoint, signed by hand: the SDK
// does not know coffer's fields).
func window(t testing.TB, e *coffertest.Env, vault, arn string) (earliest, latest time.Time, status string) {
	t.Helper()
	req, _ := http.NewRequest("GET", e.Endpoint+"/backup-vaults/"+vault+"/recovery-points/"+url.PathEscape(arn), nil)
	if err := coffertest.Sign(req, e.Creds, nil); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Status                                       string
		EarliestRestorableTime, LatestRestorableTime float64
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("DescribeRecoveryPoint %s: %d %v", arn, resp.StatusCode, err)
	}
	sec := func(f float64) time.Time { return time.UnixMilli(int64(f * 1000)) }
	return sec(out.EarliestRestorableTime), sec(out.LatestRestorableTime), out.Status
}

// waitCovered waits until LatestRestorableTime reaches at.
func waitCovered(t testing.TB, e *coffertest.Env, vault, arn string, at time.Time) {
	t.Helper()
	defer func() {
		t.Logf("LatestRestorableTime reached %s %s after it", at.Format(time.RFC3339Nano), time.Since(at).Round(time.Millisecond))
	}()
	waitFor(t, 60*time.Second, "LatestRestorableTime to reach "+at.Format(time.RFC3339Nano), func() bool {
		_, latest, _ := window(t, e, vault, arn)
		return !latest.Before(at.Truncate(time.Millisecond))
	})
}

// restoreAt restores the recovery point at T into a new bucket and
// compares its current state with want (the source's current state at T).
func restoreAt(t *testing.T, e *coffertest.Env, arn string, at time.Time, want backuptest.History) {
	t.Helper()
	restoreOn(t, e, e.S3.Client(t), arn, at, want)
}

// restoreOn is restoreAt for a recovery point of the endpoint of mc.
func restoreOn(t *testing.T, e *coffertest.Env, mc *minio.Client, arn string, at time.Time, want backuptest.History) {
	t.Helper()
	dest, id := coffertest.StartRestoreToNewBucket(t, e.Client, arn, map[string]string{"RestoreTime": at.UTC().Format(time.RFC3339Nano)})
	if out := coffertest.WaitRestoreJob(t, e.Client, id); out.Status != types.RestoreJobStatusCompleted {
		t.Fatalf("restore at %s: %s %s", at.Format(time.RFC3339Nano), out.Status, aws.ToString(out.StatusMessage))
	}
	got := backuptest.Histories(backuptest.Snapshot(t, mc, dest))
	for _, d := range backuptest.Diff(want, got) {
		t.Errorf("restore at %s: %s", at.Format(time.RFC3339Nano), d)
	}
}

func put(t *testing.T, mc *minio.Client, bucket, key string, i int) time.Time {
	t.Helper()
	data := backuptest.Bytes(uint64(i), 1000+i*37)
	if _, err := mc.PutObject(ctx, bucket, key, bytes.NewReader(data), int64(len(data)), backuptest.PutOptions(i)); err != nil {
		t.Fatal(err)
	}
	return lastModified(t, mc, bucket, key)
}

func lastModified(t *testing.T, mc *minio.Client, bucket, key string) time.Time {
	t.Helper()
	var last time.Time
	for o := range mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{WithVersions: true, Prefix: key}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		if o.Key == key && o.IsLatest {
			last = o.LastModified
		}
	}
	return last
}

func current(t *testing.T, mc *minio.Client, bucket string) backuptest.History {
	t.Helper()
	return backuptest.Histories(backuptest.Snapshot(t, mc, bucket)).Select(1, nil)
}

// changes writes, overwrites, tags and deletes objects of bucket and
// returns the state just before the delete and the delete's time, and the
// final state.
func changes(t *testing.T, mc *minio.Client, bucket string) (beforeDelete backuptest.History, deletedAt time.Time, final backuptest.History) {
	t.Helper()
	put(t, mc, bucket, "a.txt", 10) // overwrite
	tg, _ := tags.NewTags(map[string]string{"state": "retagged"}, true)
	if err := mc.PutObjectTagging(ctx, bucket, "b/ü b.bin", tg, minio.PutObjectTaggingOptions{}); err != nil {
		t.Fatal(err)
	}
	put(t, mc, bucket, "d.new", 11)
	beforeDelete = current(t, mc, bucket)
	time.Sleep(20 * time.Millisecond)
	if err := mc.RemoveObject(ctx, bucket, "c.del", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	deletedAt = lastModified(t, mc, bucket, "c.del")
	time.Sleep(20 * time.Millisecond)
	put(t, mc, bucket, "e.late", 12)
	return beforeDelete, deletedAt, current(t, mc, bucket)
}

func seed(t *testing.T, mc *minio.Client, bucket string) {
	t.Helper()
	for i, k := range []string{"a.txt", "b/ü b.bin", "c.del"} {
		put(t, mc, bucket, k, i)
	}
	put(t, mc, bucket, "a.txt", 3)
}

// webhookEnv starts a MinIO that sends its webhooks through rl to a
// coffer reading that MinIO, and a bucket notifying every change.
func webhookEnv(t testing.TB, rl *relay, reconcile time.Duration) (e *coffertest.Env, mc *minio.Client, bucket, token string) {
	t.Helper()
	dataDir := t.TempDir()
	token, _, _, err := s3events.LoadOrCreateToken(dataDir, "")
	if err != nil {
		t.Fatal(err)
	}
	m := webhookMinIO(t, rl.srv.URL+"/events/s3", token)
	e = coffertest.Start(t, coffertest.Options{S3: m, DataDir: dataDir, Configure: fast(reconcile)})
	rl.target.Store(e.Endpoint)
	mc = m.Client(t)
	bucket = m.NewBucket(t, true)
	notify(t, m, bucket)
	return e, mc, bucket, token
}

const webhookID = "COFFER"

// webhookMinIO starts a MinIO whose webhook (with a queue) posts to url.
func webhookMinIO(t testing.TB, url, token string) *testserver.Server {
	t.Helper()
	return testserver.StartWith(t, testserver.MinIO, testserver.Options{Env: []string{
		"MINIO_NOTIFY_WEBHOOK_ENABLE_" + webhookID + "=on",
		"MINIO_NOTIFY_WEBHOOK_ENDPOINT_" + webhookID + "=" + url,
		"MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_" + webhookID + "=" + token,
		"MINIO_NOTIFY_WEBHOOK_QUEUE_DIR_" + webhookID + "=" + t.TempDir(),
	}})
}

// notify makes bucket send every change to the webhook.
func notify(t testing.TB, m *testserver.Server, bucket string) {
	t.Helper()
	cfg := notification.Configuration{}
	qc := notification.NewConfig(notification.NewArn("minio", "sqs", "", webhookID, "webhook"))
	qc.AddEvents(notification.ObjectCreatedAll, notification.ObjectRemovedAll)
	cfg.AddQueue(qc)
	m.SetBucketNotification(t, bucket, cfg)
}

// TestContinuousWebhooks: MinIO sends its webhooks to coffer (no scan
// after the initial one); writes, an overwrite, a tag change and a
// delete are captured from the events, LatestRestorableTime follows,
// and restores at the millisecond before and at the delete equal the
// bucket as it was then. Events sent again, in reverse order, change
// nothing.
func TestContinuousWebhooks(t *testing.T) {
	rl := newRelay(t)
	e, mc, bucket, token := webhookEnv(t, rl, time.Hour)
	seed(t, mc, bucket)
	start := current(t, mc, bucket)
	arn := protectBucket(t, e, bucket)
	vault := vaultName(t, e, arn)
	earliest, latest0, _ := window(t, e, vault, arn)
	if earliest.IsZero() || latest0.Before(earliest) {
		t.Fatalf("window %s..%s after the initial capture", earliest, latest0)
	}
	restoreAt(t, e, arn, latest0, start)

	before, deletedAt, final := changes(t, mc, bucket)
	// Events move the covered time to the newest event's time: the last
	// write's.
	done := lastModified(t, mc, bucket, "e.late")
	waitCovered(t, e, vault, arn, done)
	restoreAt(t, e, arn, deletedAt.Add(-time.Millisecond), before)
	restoreAt(t, e, arn, done, final)

	// Duplicated and reordered events: harmless.
	rl.mu.Lock()
	bodies := append([][]byte(nil), rl.bodies...)
	rl.mu.Unlock()
	if len(bodies) < 5 {
		t.Fatalf("%d webhook requests relayed, want at least 5", len(bodies))
	}
	for i := len(bodies) - 1; i >= 0; i-- {
		req, _ := http.NewRequest("POST", e.Endpoint+"/events/s3", bytes.NewReader(bodies[i]))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("post event again: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	waitFor(t, 30*time.Second, "the inbox to be drained", func() bool {
		rows, err := e.Service.CaptureStore().InboxEvents(ctx, bucket, 1)
		return err == nil && len(rows) == 0
	})
	time.Sleep(time.Second) // the last batch's commit
	restoreAt(t, e, arn, done, final)
	restoreAt(t, e, arn, deletedAt.Add(-time.Millisecond), before)
}

// TestContinuousScansOnly: no events at all; scans every second capture
// the same changes, a tag change included (dated at the scan that saw it).
func TestContinuousScansOnly(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{Configure: fast(time.Second)})
	mc := e.S3.Client(t)
	bucket := e.S3.NewBucket(t, true)
	seed(t, mc, bucket)
	arn := protectBucket(t, e, bucket)
	vault := vaultName(t, e, arn)
	_, latest0, _ := window(t, e, vault, arn)
	put(t, mc, bucket, "a.txt", 20)
	beforeDelete := current(t, mc, bucket)
	time.Sleep(20 * time.Millisecond)
	if err := mc.RemoveObject(ctx, bucket, "c.del", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	deletedAt := lastModified(t, mc, bucket, "c.del")
	tg, _ := tags.NewTags(map[string]string{"state": "scanned"}, true)
	if err := mc.PutObjectTagging(ctx, bucket, "b/ü b.bin", tg, minio.PutObjectTaggingOptions{}); err != nil {
		t.Fatal(err)
	}
	final := current(t, mc, bucket)
	waitCovered(t, e, vault, arn, time.Now())
	_, latest, status := window(t, e, vault, arn)
	if !latest.After(latest0) || status != "AVAILABLE" {
		t.Fatalf("after the scans: latest %s (was %s), status %s", latest, latest0, status)
	}
	// The tag change is dated at the start of the scan that saw it: the
	// state at the covered time has it, the state before the delete not.
	restoreAt(t, e, arn, latest, final)
	restoreAt(t, e, arn, deletedAt.Add(-time.Millisecond), beforeDelete)

	// Outside the window: refused, naming it.
	_, err := e.Client.StartRestoreJob(ctx, &backup.StartRestoreJobInput{RecoveryPointArn: aws.String(arn),
		IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x"), Metadata: map[string]string{"DestinationBucketName": "x-never",
			"NewBucket": "true", "RestoreTime": time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano)}})
	var ipe *types.InvalidParameterValueException
	if !errors.As(err, &ipe) || !strings.Contains(err.Error(), "restorable window") {
		t.Fatalf("restore after the window: %v, want InvalidParameterValueException naming the window", err)
	}

	// The selection dropped: protection stops, the recovery point stays
	// restorable.
	sels, err := e.Client.ListBackupSelections(ctx, &backup.ListBackupSelectionsInput{BackupPlanId: aws.String(planOf(t, e))})
	if err != nil || len(sels.BackupSelectionsList) != 1 {
		t.Fatalf("ListBackupSelections: %v", err)
	}
	if _, err := e.Client.DeleteBackupSelection(ctx, &backup.DeleteBackupSelectionInput{BackupPlanId: sels.BackupSelectionsList[0].BackupPlanId,
		SelectionId: sels.BackupSelectionsList[0].SelectionId}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the protection to stop", func() bool {
		_, _, status := window(t, e, vault, arn)
		return status == "STOPPED"
	})
	restoreAt(t, e, arn, deletedAt.Add(-time.Millisecond), beforeDelete)

	// Roll the bucket itself back to before the delete: the preview says
	// what the job then does, the current state is beforeDelete again and
	// no version is lost.
	md := map[string]string{"RestoreMode": "rollback", "RestoreTime": deletedAt.Add(-time.Millisecond).UTC().Format(time.RFC3339Nano)}
	p, err := e.Service.PreviewRestore(ctx, service.StartRestoreInput{RecoveryPointARN: arn, Metadata: md}, 0)
	if err != nil || p.Write.Count != 2 || strings.Join(p.Write.Keys, "|") != "b/ü b.bin|c.del" || p.DeleteMark.Count != 0 || p.Failed != 0 {
		t.Fatalf("preview of a rollback to before the delete: %+v %v", p, err)
	}
	n := len(backuptest.Snapshot(t, mc, bucket))
	rj, err := e.Client.StartRestoreJob(ctx, &backup.StartRestoreJobInput{RecoveryPointArn: aws.String(arn), Metadata: md})
	if err != nil {
		t.Fatal(err)
	}
	out := coffertest.WaitRestoreJob(t, e.Client, aws.ToString(rj.RestoreJobId))
	if msg := aws.ToString(out.StatusMessage); out.Status != types.RestoreJobStatusCompleted || !strings.Contains(msg, "wrote 2 objects") ||
		!strings.Contains(msg, "put 0 delete markers") {
		t.Fatalf("rollback: %s %q", out.Status, msg)
	}
	for _, d := range backuptest.Diff(beforeDelete, current(t, mc, bucket)) {
		t.Errorf("after the rollback: %s", d)
	}
	if after := len(backuptest.Snapshot(t, mc, bucket)); after != n+2 {
		t.Errorf("%d entries after the rollback, %d before: want 2 new versions and none lost", after, n)
	}
}

// planOf returns the one plan of the test's server.
func planOf(t *testing.T, e *coffertest.Env) string {
	t.Helper()
	out, err := e.Client.ListBackupPlans(ctx, &backup.ListBackupPlansInput{})
	if err != nil || len(out.BackupPlansList) != 1 {
		t.Fatalf("ListBackupPlans: %v", err)
	}
	return aws.ToString(out.BackupPlansList[0].BackupPlanId)
}

// TestContinuousRuleLimits: one continuous rule per bucket (in a plan,
// across plans), and a continuous retention of 1 to 3650 days.
func TestContinuousRuleLimits(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{})
	if _, err := e.Client.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("cv")}); err != nil {
		t.Fatal(err)
	}
	rule := func(name string, days int64) types.BackupRuleInput {
		return types.BackupRuleInput{RuleName: aws.String(name), TargetBackupVaultName: aws.String("cv"),
			ScheduleExpression: aws.String("cron(0 5 ? * * *)"), EnableContinuousBackup: aws.Bool(true),
			Lifecycle: &types.Lifecycle{DeleteAfterDays: aws.Int64(days)}}
	}
	plan := func(name string, rules ...types.BackupRuleInput) (*backup.CreateBackupPlanOutput, error) {
		return e.Client.CreateBackupPlan(ctx, &backup.CreateBackupPlanInput{BackupPlan: &types.BackupPlanInput{BackupPlanName: aws.String(name), Rules: rules}})
	}
	var ipe *types.InvalidParameterValueException
	if _, err := plan("two", rule("a", 7), rule("b", 7)); !errors.As(err, &ipe) || !strings.Contains(err.Error(), "only one continuous rule") {
		t.Errorf("two continuous rules: %v", err)
	}
	if _, err := plan("long", rule("a", 3651)); !errors.As(err, &ipe) {
		t.Errorf("3651 days: %v", err)
	}
	if _, err := plan("decade", rule("a", 3650)); err != nil {
		t.Errorf("3650 days: %v", err)
	}
	sel := func(planID *string, res string) error {
		_, err := e.Client.CreateBackupSelection(ctx, &backup.CreateBackupSelectionInput{BackupPlanId: planID,
			BackupSelection: &types.BackupSelection{SelectionName: aws.String("s"), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x"),
				Resources: []string{res}}})
		return err
	}
	p1, err := plan("one", rule("a", 7))
	if err != nil {
		t.Fatal(err)
	}
	if err := sel(p1.BackupPlanId, "arn:aws:s3:::shared-bucket"); err != nil {
		t.Fatal(err)
	}
	p2, err := plan("other", rule("a", 7))
	if err != nil {
		t.Fatal(err)
	}
	if err := sel(p2.BackupPlanId, "arn:aws:s3:::shared-*"); !errors.As(err, &ipe) || !strings.Contains(err.Error(), "shared-bucket") {
		t.Errorf("second continuous rule on the bucket: %v, want InvalidParameterValueException naming it", err)
	}
	if err := sel(p2.BackupPlanId, "arn:aws:s3:::another-bucket"); err != nil {
		t.Errorf("another bucket: %v", err)
	}
}

// vaultName finds the vault of a recovery point.
func vaultName(t testing.TB, e *coffertest.Env, arn string) string {
	t.Helper()
	bucket := arn[strings.Index(arn, ":continuous:")+len(":continuous:") : strings.LastIndexByte(arn, '-')]
	out, err := e.Client.ListRecoveryPointsByResource(ctx, &backup.ListRecoveryPointsByResourceInput{ResourceArn: aws.String("arn:aws:s3:::" + bucket)})
	if err != nil || len(out.RecoveryPoints) == 0 {
		t.Fatalf("ListRecoveryPointsByResource: %v", err)
	}
	return aws.ToString(out.RecoveryPoints[0].BackupVaultName)
}

// TestContinuousCatalogRebuild: the catalog lost, the continuous
// recovery point is registered again from its vault with its window, and
// restores as before.
func TestContinuousCatalogRebuild(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{Configure: fast(time.Hour)})
	mc := e.S3.Client(t)
	bucket := e.S3.NewBucket(t, true)
	seed(t, mc, bucket)
	want := current(t, mc, bucket)
	arn := protectBucket(t, e, bucket)
	vault := vaultName(t, e, arn)
	earliest, latest, _ := window(t, e, vault, arn)
	e.Stop(t)
	for _, f := range []string{"catalog.db", "catalog.db-wal", "catalog.db-shm"} {
		if err := os.Remove(filepath.Join(e.DataDir, f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
	}
	e.Restart(t)
	e2, l2, _ := window(t, e, vault, arn)
	if !e2.Equal(earliest) || !l2.Equal(latest) {
		t.Fatalf("window after the rebuild %s..%s, want %s..%s", e2, l2, earliest, latest)
	}
	restoreAt(t, e, arn, latest, want)
}

// TestContinuousDroppedEvents: a relay drops every fifth webhook (MinIO
// is told they arrived); scans every two seconds capture what the lost
// events named, and restores before the delete and at the end equal the
// bucket then.
func TestContinuousDroppedEvents(t *testing.T) {
	rl := newRelay(t)
	rl.dropEvery = 5
	e, mc, bucket, _ := webhookEnv(t, rl, 2*time.Second)
	seed(t, mc, bucket)
	arn := protectBucket(t, e, bucket)
	vault := vaultName(t, e, arn)
	before, deletedAt, final := changes(t, mc, bucket)
	// MinIO delivers webhooks behind its answers: under load a scan may
	// cover the changes before the relay sees (and drops) one of them.
	waitFor(t, 60*time.Second, "the relay to drop an event", func() bool { return rl.dropped.Load() > 0 })
	waitCovered(t, e, vault, arn, time.Now())
	restoreAt(t, e, arn, deletedAt.Add(-time.Millisecond), before)
	_, latest, _ := window(t, e, vault, arn)
	restoreAt(t, e, arn, latest, final)
}

// TestContinuousHealth: the endpoint unreachable for longer than the
// stall threshold stops the protection; once it is back a scan heals it
// (AVAILABLE), the gap is recorded and a RestoreTime inside it refused
// naming it, and changes made meanwhile are captured.
func TestContinuousHealth(t *testing.T) {
	srv := testserver.Shared(t, testserver.MinIO)
	u, err := url.Parse(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	cut := coffertest.NewCutProxy(t, u.Host)
	e := coffertest.Start(t, coffertest.Options{S3: srv, Configure: func(c *service.Config) {
		fast(time.Second)(c)
		c.ContinuousStall = 2 * time.Second
		src := c.Sources[service.DefaultConnection]
		src.Endpoint = cut.ViaProxy(t, src.Endpoint)
		c.Sources[service.DefaultConnection] = src
	}})
	mc := srv.Client(t)
	bucket := srv.NewBucket(t, true)
	seed(t, mc, bucket)
	arn := protectBucket(t, e, bucket)
	vault := vaultName(t, e, arn)
	cut.Cut()
	waitFor(t, 60*time.Second, "the protection to stop", func() bool {
		_, _, status := window(t, e, vault, arn)
		return status == "STOPPED"
	})
	_, stoppedAt, _ := window(t, e, vault, arn)
	put(t, mc, bucket, "a.txt", 30)
	cut.Restore()
	waitFor(t, 60*time.Second, "the protection to heal", func() bool {
		_, _, status := window(t, e, vault, arn)
		return status == "AVAILABLE"
	})
	_, latest, _ := window(t, e, vault, arn)
	restoreAt(t, e, arn, latest, current(t, mc, bucket))
	_, err = e.Client.StartRestoreJob(ctx, &backup.StartRestoreJobInput{RecoveryPointArn: aws.String(arn),
		IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x"), Metadata: map[string]string{"DestinationBucketName": "x-never",
			"NewBucket": "true", "RestoreTime": stoppedAt.Add(time.Millisecond).UTC().Format(time.RFC3339Nano)}})
	var ipe *types.InvalidParameterValueException
	if !errors.As(err, &ipe) || !strings.Contains(err.Error(), "in a gap") {
		t.Fatalf("restore inside the gap: %v, want InvalidParameterValueException naming the gap", err)
	}
}

// TestContinuousPostgres: protection and scans with the catalog and the
// job queue on PostgreSQL (capture jobs queued in pgx transactions).
func TestContinuousPostgres(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{Database: coffertest.Database(t, "postgres"), Configure: fast(time.Second)})
	mc := e.S3.Client(t)
	bucket := e.S3.NewBucket(t, true)
	seed(t, mc, bucket)
	arn := protectBucket(t, e, bucket)
	vault := vaultName(t, e, arn)
	put(t, mc, bucket, "f.pg", 40)
	want := current(t, mc, bucket)
	waitCovered(t, e, vault, arn, time.Now())
	_, latest, _ := window(t, e, vault, arn)
	restoreAt(t, e, arn, latest, want)
}

// TestContinuousOtherConnection: a bucket of a second connection, whose
// MinIO names the connection in its webhook's URL
// (/events/s3?connection=other), is captured from its events (no scan
// after the initial one) and restored exactly.
func TestContinuousOtherConnection(t *testing.T) {
	rl := newRelay(t)
	dataDir := t.TempDir()
	token, _, _, err := s3events.LoadOrCreateToken(dataDir, "")
	if err != nil {
		t.Fatal(err)
	}
	other := webhookMinIO(t, rl.srv.URL+"/events/s3?connection=other", token)
	e := coffertest.Start(t, coffertest.Options{DataDir: dataDir, Configure: func(c *service.Config) {
		fast(time.Hour)(c)
		c.Sources["other"] = s3source.Config{Endpoint: other.Endpoint, AccessKey: other.AccessKey, SecretKey: other.SecretKey, Region: other.Region}
	}})
	rl.target.Store(e.Endpoint)
	mc := other.Client(t)
	bucket := other.NewBucket(t, true)
	notify(t, other, bucket)
	seed(t, mc, bucket)
	// Plans select buckets of other connections by tags (Resources name
	// the default connection's).
	tag := strings.ReplaceAll(bucket, ".", "-")
	if err := mc.SetBucketTagging(ctx, bucket, bucketTags(t, map[string]string{"pitr": tag})); err != nil {
		t.Fatal(err)
	}
	arn, vault := protectResource(t, e, types.BackupSelection{ListOfTags: []types.Condition{{ConditionKey: aws.String("pitr"),
		ConditionValue: aws.String(tag), ConditionType: types.ConditionTypeStringequals}}}, bucket, 35)
	if !strings.Contains(arn, ":continuous:"+bucket+"-") {
		t.Fatalf("recovery point %s", arn)
	}
	_, latest0, _ := window(t, e, vault, arn)
	put(t, mc, bucket, "a.txt", 50)
	done := put(t, mc, bucket, "d.new", 51)
	waitCovered(t, e, vault, arn, done)
	if _, latest, _ := window(t, e, vault, arn); !latest.After(latest0) {
		t.Fatalf("LatestRestorableTime %s, was %s: events did not move it", latest, latest0)
	}
	restoreOn(t, e, mc, arn, done, current(t, mc, bucket))
}

func bucketTags(t *testing.T, m map[string]string) *tags.Tags {
	t.Helper()
	tg, err := tags.NewTags(m, false)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}
