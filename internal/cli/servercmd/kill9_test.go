package servercmd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/minio/minio-go/v7"

	"github.com/cofferbackup/coffer/internal/auth"
	"github.com/cofferbackup/coffer/internal/coffertest"
	"github.com/cofferbackup/coffer/internal/testserver"
)

// objState is what a key holds at the source: the latest version's bytes,
// content type, user metadata and tags.
type objState struct {
	data  []byte
	ctype string
	meta  map[string]string // lower-case names
	tags  map[string]string
}

// bucketModel is a bucket's current objects by key.
type bucketModel map[string]objState

// killWorld is the kill -9 test's state: the server process, the source
// buckets with their models, and what every recovery point must hold.
type killWorld struct {
	t       *testing.T
	rng     *rand.Rand
	bin     string
	dataDir string
	listen  string
	s3      *testserver.Server
	mc      *minio.Client
	proc    *serverProc
	creds   auth.Credentials

	buckets []string
	models  map[string]bucketModel
	rps     map[string]bucketModel // by recovery point ARN: the source at backup time
	deleted map[string]bool        // recovery points whose deletion was asked for

	kills, restores int
}

const killVault = "k9"

// TestKill9 kills `coffer server` with SIGKILL at seeded random moments
// while it runs backups, restores, maintenance and recovery-point
// deletions. After each restart: no job stays queued or running, the
// vault verifies clean (reading all its data), the catalog lists exactly
// the recovery points expected, and every COMPLETED recovery point
// restores byte for byte with its metadata and tags into a new bucket.
// COFFER_SOAK=1 makes 50 kills instead of 10; COFFER_KILL_SEED picks the
// seed (the test logs the one it used).
func TestKill9(t *testing.T) {
	kills, seed := 10, uint64(11)
	if os.Getenv("COFFER_SOAK") != "" {
		kills = 50
	}
	if s := os.Getenv("COFFER_KILL_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("COFFER_KILL_SEED: %v", err)
		}
		seed = n
	}
	t.Logf("seed %d, %d kills (COFFER_KILL_SEED, COFFER_SOAK)", seed, kills)
	began := time.Now()
	w := newKillWorld(t, seed)
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(w.dataDir, "server.log"))
			for _, line := range strings.Split(string(log), "\n") {
				if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
					t.Log(line)
				}
			}
		}
	})
	for round := range kills {
		w.round(round)
	}
	t.Logf("%d kills survived, %d restores compared byte for byte, in %v", w.kills, w.restores, time.Since(began).Round(time.Second))
}

func newKillWorld(t *testing.T, seed uint64) *killWorld {
	s3 := testserver.Shared(t, testserver.MinIO)
	w := &killWorld{t: t, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), bin: buildCoffer(t),
		dataDir: t.TempDir(), listen: freeAddr(t), s3: s3, mc: s3.Client(t),
		models: map[string]bucketModel{}, rps: map[string]bucketModel{}, deleted: map[string]bool{}}
	w.start()
	if _, err := w.proc.client.CreateBackupVault(context.Background(), &backup.CreateBackupVaultInput{BackupVaultName: aws.String(killVault)}); err != nil {
		t.Fatal(err)
	}
	// A big bucket (a backup of it lasts long enough to be killed), a
	// small one and an unversioned one.
	for i, spec := range []struct {
		versioned bool
		n, size   int
	}{{true, 250, 16 << 10}, {true, 20, 3000}, {false, 40, 8 << 10}} {
		b := s3.NewBucket(t, spec.versioned)
		w.buckets = append(w.buckets, b)
		w.models[b] = bucketModel{}
		for j := range spec.n {
			w.put(b, fmt.Sprintf("b%d/%05d", i, j), spec.size)
		}
	}
	return w
}

func (w *killWorld) start() {
	w.proc = startProc(w.t, w.bin, w.dataDir, w.listen, w.s3, nil)
	creds, err := auth.ReadCredentialsFile(filepath.Join(w.dataDir, "credentials.json"))
	if err != nil {
		w.t.Fatal(err)
	}
	w.creds = creds
}

// hardKeys are key names that need escaping somewhere on their way.
var hardKeys = []string{"dir with space/ü ñ.txt", "q?x=1&y=2#frag", "plus+and%25percent", "tab\tand\"quote", "emoji-😀"} //nolint:gochecknoglobals // test table

// put writes key with size random bytes, a random content type, metadata
// and tags, and records it in the bucket's model.
func (w *killWorld) put(bucket, key string, size int) {
	w.t.Helper()
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(w.rng.Uint32())
	}
	st := objState{data: data, ctype: []string{"application/octet-stream", "text/plain", "image/png"}[w.rng.IntN(3)],
		meta: map[string]string{"round": strconv.Itoa(w.rng.IntN(1000))}, tags: map[string]string{}}
	if w.rng.IntN(2) == 0 {
		st.tags["class"] = []string{"gold", "silver"}[w.rng.IntN(2)]
	}
	_, err := w.mc.PutObject(context.Background(), bucket, key, bytes.NewReader(data), int64(size),
		minio.PutObjectOptions{ContentType: st.ctype, UserMetadata: st.meta, UserTags: st.tags})
	if err != nil {
		w.t.Fatalf("put %s/%q: %v", bucket, key, err)
	}
	w.models[bucket][key] = st
}

// mutate changes a few keys of bucket: new, overwritten (zero-byte and
// multi-chunk too), deleted, hard names.
func (w *killWorld) mutate(bucket string) {
	w.t.Helper()
	m := w.models[bucket]
	keys := slices.Sorted(maps.Keys(m))
	for range 1 + w.rng.IntN(4) {
		switch op := w.rng.IntN(5); {
		case op == 0 && len(keys) > 0:
			k := keys[w.rng.IntN(len(keys))]
			if err := w.mc.RemoveObject(context.Background(), bucket, k, minio.RemoveObjectOptions{}); err != nil {
				w.t.Fatal(err)
			}
			delete(m, k)
		case op == 1:
			w.put(bucket, hardKeys[w.rng.IntN(len(hardKeys))], w.rng.IntN(3)*(700<<10))
		case op == 2 && len(keys) > 0:
			w.put(bucket, keys[w.rng.IntN(len(keys))], 0)
		default:
			w.put(bucket, fmt.Sprintf("new/%d", w.rng.Uint32()), 1+w.rng.IntN(40<<10))
		}
	}
}

// roundOps is what a round started before its kill.
type roundOps struct {
	backups     map[string]bucketModel // backup job id -> the source it must capture
	backupRPs   map[string]string      // backup job id -> its recovery point ARN
	restore     string                 // restore job id, if any
	restoreRP   string
	restoreTo   string
	maintenance bool
	deleting    string // recovery point whose deletion was in flight
	delDone     chan struct{}
}

// round mutates, starts operations, kills the server at a random moment,
// restarts it and checks everything.
func (w *killWorld) round(n int) {
	w.t.Helper()
	ops := w.startOps()
	began := time.Now()
	target := w.killTarget(ops)
	if target != "deletion" {
		w.waitRunning(target, 5*time.Second)
		time.Sleep(time.Duration(w.rng.IntN(300)) * time.Millisecond)
	}
	if ops.deleting != "" {
		ops.delDone = make(chan struct{})
		go func() {
			defer close(ops.delDone)
			_, _ = w.proc.client.DeleteRecoveryPoint(context.Background(), &backup.DeleteRecoveryPointInput{
				BackupVaultName: aws.String(killVault), RecoveryPointArn: aws.String(ops.deleting)})
		}()
		time.Sleep(time.Duration(w.rng.IntN(20)) * time.Millisecond)
	}
	running := w.busyJobs()
	delay := time.Since(began).Round(time.Millisecond)
	if ops.delDone != nil {
		select {
		case <-ops.delDone:
		default:
			running = append(running, "deletion")
		}
	}
	if err := w.proc.cmd.Process.Kill(); err != nil {
		w.t.Fatal(err)
	}
	_ = w.proc.cmd.Wait()
	w.kills++
	if ops.delDone != nil {
		<-ops.delDone // its connection died with the server
	}
	w.start()
	w.waitQuiet()
	w.checkOps(ops)
	w.verify()
	w.checkRecoveryPoints()
	w.t.Logf("round %d: aimed at %s, killed after %v during %v; %d recovery points restore exactly", n, target, delay, summarize(running), len(w.live()))
}

// killTarget picks the operation the round's kill aims at.
func (w *killWorld) killTarget(ops roundOps) string {
	kinds := []string{"backup"}
	if ops.restore != "" {
		kinds = append(kinds, "restore")
	}
	if ops.maintenance {
		kinds = append(kinds, "maintenance")
	}
	if ops.deleting != "" {
		kinds = append(kinds, "deletion")
	}
	return kinds[w.rng.IntN(len(kinds))]
}

// waitRunning waits (at most max) until a job of kind runs.
func (w *killWorld) waitRunning(kind string, max time.Duration) {
	for deadline := time.Now().Add(max); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, b := range w.busyJobs() {
			if strings.HasPrefix(b, kind+" ") && strings.HasSuffix(b, " RUNNING") {
				return
			}
		}
	}
}

// summarize counts busyJobs' answer by kind and state.
func summarize(busy []string) string {
	n := map[string]int{}
	for _, b := range busy {
		f := strings.Fields(b)
		n[f[0]+" "+f[len(f)-1]]++
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(n)) {
		out = append(out, fmt.Sprintf("%s x%d", k, n[k]))
	}
	if len(out) == 0 {
		return "nothing"
	}
	return strings.Join(out, ", ")
}

// live lists the recovery points that must exist, sorted.
func (w *killWorld) live() []string {
	var out []string
	for arn := range w.rps {
		if !w.deleted[arn] {
			out = append(out, arn)
		}
	}
	slices.Sort(out)
	return out
}

func (w *killWorld) startOps() roundOps {
	w.t.Helper()
	ctx := context.Background()
	c := w.proc.client
	ops := roundOps{backups: map[string]bucketModel{}, backupRPs: map[string]string{}}
	live := w.live()
	// Keep a few recovery points (each is restored after every kill).
	for len(live) > 4 {
		i := w.rng.IntN(len(live))
		if _, err := c.DeleteRecoveryPoint(ctx, &backup.DeleteRecoveryPointInput{BackupVaultName: aws.String(killVault),
			RecoveryPointArn: aws.String(live[i])}); err != nil {
			w.t.Fatal(err)
		}
		delete(w.rps, live[i])
		live = slices.Delete(live, i, i+1)
	}
	if len(live) > 0 && w.rng.IntN(3) > 0 {
		ops.restoreRP = live[w.rng.IntN(len(live))]
		ops.restoreTo = testserver.UniqueBucketName("k9r")
		out, err := c.StartRestoreJob(ctx, &backup.StartRestoreJobInput{RecoveryPointArn: aws.String(ops.restoreRP),
			IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x"),
			Metadata:   map[string]string{"DestinationBucketName": ops.restoreTo, "NewBucket": "true"}})
		if err != nil {
			w.t.Fatal(err)
		}
		ops.restore = aws.ToString(out.RestoreJobId)
	}
	for _, i := range w.rng.Perm(len(w.buckets))[:1+w.rng.IntN(2)] {
		b := w.buckets[i]
		w.mutate(b)
		out, err := c.StartBackupJob(ctx, &backup.StartBackupJobInput{BackupVaultName: aws.String(killVault),
			ResourceArn: aws.String("arn:aws:s3:::" + b), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x")})
		if err != nil {
			w.t.Fatal(err)
		}
		id := aws.ToString(out.BackupJobId)
		ops.backups[id] = maps.Clone(w.models[b])
		ops.backupRPs[id] = aws.ToString(out.RecoveryPointArn)
	}
	if w.rng.IntN(2) == 0 {
		ops.maintenance = true
		var out map[string]any
		if err := w.ext(http.MethodPut, "/maintenance-jobs", map[string]string{"BackupVaultName": killVault}, &out, time.Minute); err != nil {
			w.t.Fatalf("StartMaintenanceJob: %v", err)
		}
	}
	if len(live) > 0 && w.rng.IntN(3) > 0 {
		cands := slices.DeleteFunc(slices.Clone(live), func(a string) bool { return a == ops.restoreRP })
		if len(cands) > 0 {
			ops.deleting = cands[w.rng.IntN(len(cands))] // asked for just before the kill (round)
			w.deleted[ops.deleting] = true               // it may survive the kill: checkRecoveryPoints decides
		}
	}
	return ops
}

// ext calls a coffer API extension, signed, on the current process.
func (w *killWorld) ext(method, path string, in, out any, timeout time.Duration) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequest(method, "http://"+w.listen+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if err := coffertest.Sign(req, w.creds, body); err != nil {
		return err
	}
	resp, err := (&http.Client{Timeout: timeout}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s %s", method, path, resp.Status, data)
	}
	return json.Unmarshal(data, out)
}

// waitQuiet waits (at most 2 minutes) until no backup, restore or
// maintenance job is queued or running.
func (w *killWorld) waitQuiet() {
	w.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		busy := w.busyJobs()
		if len(busy) == 0 {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("jobs still queued or running 2 minutes after the restart: %v", busy)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// busyJobs lists the jobs not in a final state, as "kind id state".
func (w *killWorld) busyJobs() []string {
	w.t.Helper()
	ctx := context.Background()
	c := w.proc.client
	var busy []string
	bj, err := coffertestAll(func(tok *string) ([]types.BackupJob, *string, error) {
		o, err := c.ListBackupJobs(ctx, &backup.ListBackupJobsInput{NextToken: tok})
		if err != nil {
			return nil, nil, err
		}
		return o.BackupJobs, o.NextToken, nil
	})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, j := range bj {
		switch j.State {
		case types.BackupJobStateCompleted, types.BackupJobStatePartial, types.BackupJobStateFailed,
			types.BackupJobStateAborted, types.BackupJobStateExpired:
		default:
			busy = append(busy, fmt.Sprintf("backup %s %s", aws.ToString(j.BackupJobId), j.State))
		}
	}
	rj, err := coffertestAll(func(tok *string) ([]types.RestoreJobsListMember, *string, error) {
		o, err := c.ListRestoreJobs(ctx, &backup.ListRestoreJobsInput{NextToken: tok})
		if err != nil {
			return nil, nil, err
		}
		return o.RestoreJobs, o.NextToken, nil
	})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, j := range rj {
		if s := j.Status; s != types.RestoreJobStatusCompleted && s != types.RestoreJobStatusFailed && s != types.RestoreJobStatusAborted {
			busy = append(busy, fmt.Sprintf("restore %s %s", aws.ToString(j.RestoreJobId), s))
		}
	}
	for _, state := range []string{"CREATED", "RUNNING"} {
		var out struct {
			MaintenanceJobs []struct{ MaintenanceJobId, State string }
		}
		if err := w.ext(http.MethodGet, "/maintenance-jobs?state="+state, struct{}{}, &out, time.Minute); err != nil {
			w.t.Fatal(err)
		}
		for _, j := range out.MaintenanceJobs {
			busy = append(busy, "maintenance "+j.MaintenanceJobId+" "+j.State)
		}
	}
	return busy
}

// coffertestAll collects every page of a list call.
func coffertestAll[T any](page func(tok *string) ([]T, *string, error)) ([]T, error) {
	var all []T
	var tok *string
	for {
		items, next, err := page(tok)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if aws.ToString(next) == "" {
			return all, nil
		}
		tok = next
	}
}

// checkOps checks how the round's jobs ended: backups COMPLETED (taken
// over when killed), the restore COMPLETED and exact.
func (w *killWorld) checkOps(ops roundOps) {
	w.t.Helper()
	ctx := context.Background()
	for id, want := range ops.backups {
		j, err := w.proc.client.DescribeBackupJob(ctx, &backup.DescribeBackupJobInput{BackupJobId: aws.String(id)})
		if err != nil {
			w.t.Fatal(err)
		}
		if j.State != types.BackupJobStateCompleted {
			w.t.Fatalf("backup %s after the kill: %s %q", id, j.State, aws.ToString(j.StatusMessage))
		}
		w.rps[ops.backupRPs[id]] = want
	}
	if ops.restore != "" {
		r := coffertest.WaitRestoreJob(w.t, w.proc.client, ops.restore)
		if r.Status != types.RestoreJobStatusCompleted {
			w.t.Fatalf("restore %s after the kill: %s %q", ops.restore, r.Status, aws.ToString(r.StatusMessage))
		}
		w.compare(ops.restoreTo, w.rps[ops.restoreRP], "restore killed midway of "+ops.restoreRP)
	}
}

// verify runs VerifyBackupVault, reading all the data; it must be clean.
func (w *killWorld) verify() {
	w.t.Helper()
	var rep struct {
		OK                     bool
		RecoveryPoints         int64
		ProblemCount           int64
		DeletedReferenced      int64
		AffectedRecoveryPoints []string
		Problems               []map[string]any
	}
	path := "/backup-vaults/" + url.PathEscape(killVault) + "/verification"
	if err := w.ext(http.MethodPost, path, map[string]any{"ReadDataPercent": 100}, &rep, 5*time.Minute); err != nil {
		w.t.Fatalf("VerifyBackupVault: %v", err)
	}
	// One process on SQLite is the vault's only writer: its maintenance
	// leaves no referenced content deleted.
	if !rep.OK || rep.ProblemCount != 0 || rep.DeletedReferenced != 0 {
		w.t.Fatalf("vault verify after the kill: %d problems in %v, %d referenced contents deleted: %v",
			rep.ProblemCount, rep.AffectedRecoveryPoints, rep.DeletedReferenced, rep.Problems)
	}
}

// checkRecoveryPoints checks that the catalog lists every recovery point
// expected (a deletion in flight at the kill may or may not have
// happened), each COMPLETED, and restores them all into new buckets.
func (w *killWorld) checkRecoveryPoints() {
	w.t.Helper()
	ctx := context.Background()
	listed := map[string]types.RecoveryPointByBackupVault{}
	for _, rp := range listAllRecoveryPoints(w.t, w.proc.client, killVault) {
		listed[aws.ToString(rp.RecoveryPointArn)] = rp
	}
	for arn, rp := range listed {
		if _, known := w.rps[arn]; !known {
			w.t.Fatalf("unexpected recovery point %s (%s)", arn, rp.Status)
		}
		if rp.Status != types.RecoveryPointStatusCompleted {
			w.t.Fatalf("recovery point %s: %s %q", arn, rp.Status, aws.ToString(rp.StatusMessage))
		}
		delete(w.deleted, arn) // a deletion the kill cut short: it is still there, and whole
	}
	for arn := range w.rps {
		if _, ok := listed[arn]; !ok {
			if !w.deleted[arn] {
				w.t.Fatalf("recovery point %s is lost", arn)
			}
			delete(w.rps, arn)
		}
	}
	type restore struct{ job, rp, dest string }
	var rs []restore
	for _, arn := range w.live() {
		dest := testserver.UniqueBucketName("k9c")
		out, err := w.proc.client.StartRestoreJob(ctx, &backup.StartRestoreJobInput{RecoveryPointArn: aws.String(arn),
			IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x"),
			Metadata:   map[string]string{"DestinationBucketName": dest, "NewBucket": "true"}})
		if err != nil {
			w.t.Fatal(err)
		}
		rs = append(rs, restore{aws.ToString(out.RestoreJobId), arn, dest})
	}
	for _, r := range rs {
		if j := coffertest.WaitRestoreJob(w.t, w.proc.client, r.job); j.Status != types.RestoreJobStatusCompleted {
			w.t.Fatalf("restore of %s: %s %q", r.rp, j.Status, aws.ToString(j.StatusMessage))
		}
		w.compare(r.dest, w.rps[r.rp], "recovery point "+r.rp)
	}
}

// compare checks that bucket holds exactly want: keys, bytes, content
// types, user metadata and tags. The restored buckets are removed after.
func (w *killWorld) compare(bucket string, want bucketModel, what string) {
	w.t.Helper()
	ctx := context.Background()
	seen := 0
	for o := range w.mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			w.t.Fatalf("%s: list %s: %v", what, bucket, o.Err)
		}
		exp, ok := want[o.Key]
		if !ok {
			w.t.Fatalf("%s: unexpected key %q", what, o.Key)
		}
		if err := w.compareObject(bucket, o.Key, exp); err != nil {
			w.t.Fatalf("%s: %v", what, err)
		}
		seen++
	}
	if seen != len(want) {
		w.t.Fatalf("%s: %d objects restored, want %d", what, seen, len(want))
	}
	w.restores++
	w.removeBucket(bucket)
}

func (w *killWorld) compareObject(bucket, key string, exp objState) error {
	ctx := context.Background()
	obj, err := w.mc.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return err
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)
	if err != nil {
		return fmt.Errorf("read %q: %w", key, err)
	}
	st, err := obj.Stat()
	if err != nil {
		return err
	}
	meta := map[string]string{}
	for k, v := range st.UserMetadata {
		meta[strings.ToLower(k)] = v
	}
	tg, err := w.mc.GetObjectTagging(ctx, bucket, key, minio.GetObjectTaggingOptions{})
	if err != nil {
		return err
	}
	gotTags := map[string]string{}
	if tg != nil {
		gotTags = tg.ToMap()
	}
	switch {
	case !bytes.Equal(data, exp.data):
		return fmt.Errorf("%q: %d bytes differ from the %d backed up", key, len(data), len(exp.data))
	case st.ContentType != exp.ctype:
		return fmt.Errorf("%q: content type %q, want %q", key, st.ContentType, exp.ctype)
	case !maps.Equal(meta, exp.meta):
		return fmt.Errorf("%q: metadata %v, want %v", key, meta, exp.meta)
	case !maps.Equal(gotTags, exp.tags):
		return fmt.Errorf("%q: tags %v, want %v", key, gotTags, exp.tags)
	}
	return nil
}

// removeBucket empties and removes a restored bucket (all its versions).
func (w *killWorld) removeBucket(bucket string) {
	ctx := context.Background()
	objs := w.mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true, WithVersions: true})
	for e := range w.mc.RemoveObjects(ctx, bucket, objs, minio.RemoveObjectsOptions{}) {
		w.t.Logf("remove %s: %v", bucket, e.Err)
	}
	if err := w.mc.RemoveBucket(ctx, bucket); err != nil {
		w.t.Logf("remove bucket %s: %v", bucket, err)
	}
}
