package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/tags"

	bt "github.com/cofferbackup/coffer/internal/backup/backuptest"
	"github.com/cofferbackup/coffer/internal/coffertest"
	"github.com/cofferbackup/coffer/internal/restore"
	"github.com/cofferbackup/coffer/internal/testserver"
)

// previewOut is the answer of POST /restore-previews.
type previewOut struct {
	DestinationBucketName, RestoreMode string
	Write, Skip, DeleteMark, Unchanged struct {
		Count int64
		Keys  []string
	}
	VersionsToWrite, DeleteMarkersToWrite, BytesToWrite int64
	FailedCount                                         int64
	Notes                                               []string
}

// postPreview asks for a preview; it returns the HTTP status and, for
// 200, the answer, else the error body.
func postPreview(t *testing.T, e *coffertest.Env, rpARN string, md map[string]string) (int, previewOut, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"RecoveryPointArn": rpARN, "Metadata": md})
	req, _ := http.NewRequest("POST", e.Endpoint+"/restore-previews", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if err := coffertest.Sign(req, e.Creds, body); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out previewOut
	if resp.StatusCode == 200 {
		if err := json.Unmarshal(data, &out); err != nil {
			t.Fatalf("preview answer %s: %v", data, err)
		}
	}
	return resp.StatusCode, out, string(data)
}

func mustPreview(t *testing.T, e *coffertest.Env, rpARN string, md map[string]string) previewOut {
	t.Helper()
	code, out, body := postPreview(t, e, rpARN, md)
	if code != 200 {
		t.Fatalf("preview %v: %d %s", md, code, body)
	}
	if out.FailedCount != 0 {
		t.Fatalf("preview %v: %d keys not compared: %s", md, out.FailedCount, body)
	}
	return out
}

// checkClass compares a preview class with the keys expected.
func checkClass(t *testing.T, name string, got struct {
	Count int64
	Keys  []string
}, want ...string) {
	t.Helper()
	if got.Count != int64(len(want)) || !slices.Equal(got.Keys, want) {
		t.Errorf("preview %s: %d %q, want %q", name, got.Count, got.Keys, want)
	}
}

// currentState is a bucket's current objects (the newest entry of each
// key, when it is not a delete marker) with data, metadata and tags.
func currentState(snap []bt.Version) bt.History {
	h := bt.History{}
	for i, v := range snap {
		if (i == 0 || snap[i-1].Key != v.Key) && !v.DeleteMarker {
			h[v.Key] = []bt.Version{v}
		}
	}
	return h
}

// runRestore starts a restore job and waits for it to complete; it
// returns the job's counters.
func runRestore(t *testing.T, e *coffertest.Env, rpARN string, md map[string]string) restore.Stats {
	t.Helper()
	rj, err := e.Client.StartRestoreJob(ctx, &backup.StartRestoreJobInput{RecoveryPointArn: aws.String(rpARN),
		ResourceType: aws.String("S3"), Metadata: md})
	if err != nil {
		t.Fatalf("StartRestoreJob %v: %v", md, err)
	}
	done := e.WaitRestore(t, aws.ToString(rj.RestoreJobId))
	if done.Status != types.RestoreJobStatusCompleted {
		t.Fatalf("restore %v: %s %q", md, done.Status, aws.ToString(done.StatusMessage))
	}
	j, err := e.Service.RestoreJob(ctx, aws.ToString(rj.RestoreJobId))
	if err != nil {
		t.Fatal(err)
	}
	var st restore.Stats
	if err := json.Unmarshal([]byte(j.Stats), &st); err != nil {
		t.Fatalf("job stats %q: %v", j.Stats, err)
	}
	return st
}

func backupNow(t *testing.T, e *coffertest.Env, bucket string) string {
	t.Helper()
	job := coffertest.StartBackup(t, e.Client, "main", bucket)
	done := e.WaitBackup(t, aws.ToString(job.BackupJobId))
	if done.State != types.BackupJobStateCompleted {
		t.Fatalf("backup: %s %q", done.State, aws.ToString(done.StatusMessage))
	}
	return aws.ToString(job.RecoveryPointArn)
}

func TestRollbackAndPreview(t *testing.T) {
	for _, kind := range testserver.Kinds() {
		t.Run(kind, func(t *testing.T) { testRollbackAndPreview(t, kind) })
	}
}

// testRollbackAndPreview rolls a bucket back after overwrites, a new key,
// deletes, a tag change and a metadata change, checks the current state
// against the recovery point's byte for byte and that no version was
// lost, undoes the rollback with another, and checks every preview
// against what the job then did.
func testRollbackAndPreview(t *testing.T, kind string) {
	e := coffertest.Start(t, coffertest.Options{S3Kind: kind})
	mc := e.S3.Client(t)
	if _, err := e.Client.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("main")}); err != nil {
		t.Fatal(err)
	}
	bucket := e.S3.NewBucket(t, true)
	n := 0
	first := map[string][]byte{}
	putData := func(key string, data []byte, opts minio.PutObjectOptions) {
		t.Helper()
		if _, err := mc.PutObject(ctx, bucket, key, bytes.NewReader(data), int64(len(data)), opts); err != nil {
			t.Fatalf("put %q: %v", key, err)
		}
	}
	put := func(key, content string, opts minio.PutObjectOptions) {
		t.Helper()
		n++
		data := []byte(strings.Repeat(content+" ", 50+n))
		if first[key] == nil {
			first[key] = data
		}
		putData(key, data, opts)
	}
	del := func(key string) {
		t.Helper()
		if err := mc.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{}); err != nil {
			t.Fatalf("delete %q: %v", key, err)
		}
	}
	for i, k := range []string{"del", "keep", "meta", "over", "tagged", "gone"} {
		put(k, "first "+k, bt.PutOptions(i))
	}
	del("gone") // absent in the recovery point: its newest entry is a delete marker
	state1 := currentState(bt.Snapshot(t, mc, bucket))
	rp1 := backupNow(t, e, bucket)

	// The changes a rollback undoes.
	put("over", "second over", bt.PutOptions(7))
	put("new", "brand new", bt.PutOptions(8))
	put("gone", "back again", bt.PutOptions(9))
	del("del")
	tg, _ := tags.NewTags(map[string]string{"team": "red"}, true)
	if err := mc.PutObjectTagging(ctx, bucket, "tagged", tg, minio.PutObjectTaggingOptions{}); err != nil {
		t.Fatal(err)
	}
	// Same bytes (same ETag and size), other metadata. (Not by a copy onto
	// itself: versitygw changes the version's metadata in place then.)
	putData("meta", first["meta"], minio.PutObjectOptions{ContentType: "text/plain", UserMetadata: map[string]string{"Owner": "mallory"},
		UserTags: bt.PutOptions(2).UserTags})
	before := bt.Snapshot(t, mc, bucket)
	state2 := currentState(before)
	rp2 := backupNow(t, e, bucket)

	rollback := map[string]string{"RestoreMode": "rollback"}
	p := mustPreview(t, e, rp1, rollback)
	if p.RestoreMode != "rollback" || p.DestinationBucketName != bucket {
		t.Errorf("preview: mode %q destination %q", p.RestoreMode, p.DestinationBucketName)
	}
	checkClass(t, "write", p.Write, "del", "meta", "over", "tagged")
	checkClass(t, "delete-mark", p.DeleteMark, "gone", "new")
	checkClass(t, "unchanged", p.Unchanged, "keep")
	checkClass(t, "skip", p.Skip)
	if after := bt.Snapshot(t, mc, bucket); len(after) != len(before) {
		t.Fatalf("the preview wrote: %d entries, had %d", len(after), len(before))
	}

	st := runRestore(t, e, rp1, rollback)
	if st.ObjectsRestored != p.Write.Count || st.VersionsRestored != p.VersionsToWrite || st.BytesRestored != p.BytesToWrite ||
		st.DeleteMarkersRestored != p.DeleteMark.Count || st.ObjectsUnchanged != p.Unchanged.Count || st.ObjectsFailed != 0 {
		t.Errorf("rollback did %+v, preview said %+v", st, p)
	}
	after := bt.Snapshot(t, mc, bucket)
	bt.Compare(t, state1, currentState(after))
	checkKept(t, before, after, 6)

	// Converged: a second preview finds nothing to do.
	p = mustPreview(t, e, rp1, rollback)
	checkClass(t, "write after rollback", p.Write)
	checkClass(t, "delete-mark after rollback", p.DeleteMark)
	checkClass(t, "unchanged after rollback", p.Unchanged, "del", "keep", "meta", "over", "tagged")

	// Undo: roll back to the recovery point taken before the rollback.
	p = mustPreview(t, e, rp2, rollback)
	checkClass(t, "undo write", p.Write, "gone", "meta", "new", "over", "tagged")
	checkClass(t, "undo delete-mark", p.DeleteMark, "del")
	checkClass(t, "undo unchanged", p.Unchanged, "keep")
	st = runRestore(t, e, rp2, map[string]string{"RestoreMode": "rollback", "DestinationBucketName": bucket})
	if st.ObjectsRestored != 5 || st.DeleteMarkersRestored != 1 || st.ObjectsUnchanged != 1 {
		t.Errorf("undo did %+v", st)
	}
	final := bt.Snapshot(t, mc, bucket)
	bt.Compare(t, state2, currentState(final))
	checkKept(t, after, final, 6)

	// A restore into an existing bucket: its current keys are skipped.
	dest := e.S3.NewBucket(t, true)
	for _, k := range []string{"keep", "over"} {
		if _, err := mc.PutObject(ctx, dest, k, strings.NewReader("there"), 5, minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := mc.RemoveObject(ctx, dest, "over", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	md := map[string]string{"DestinationBucketName": dest}
	p = mustPreview(t, e, rp1, md)
	checkClass(t, "restore write", p.Write, "del", "meta", "over", "tagged")
	checkClass(t, "restore skip", p.Skip, "keep")
	checkClass(t, "restore delete-mark", p.DeleteMark)
	st = runRestore(t, e, rp1, md)
	checkRestoreAgrees(t, p, st)

	// All versions into a new bucket: "gone" ends in its delete marker.
	newDest := testserver.UniqueBucketName("preview")
	md = map[string]string{"DestinationBucketName": newDest, "NewBucket": "true", "RestoreLatestVersionsUpTo": "all"}
	p = mustPreview(t, e, rp2, md)
	checkClass(t, "all write", p.Write, "gone", "keep", "meta", "new", "over", "tagged")
	checkClass(t, "all delete-mark", p.DeleteMark, "del")
	st = runRestore(t, e, rp2, md)
	checkRestoreAgrees(t, p, st)
	t.Cleanup(func() { coffertest.RemoveBucket(t, mc, newDest) })
	bt.Compare(t, bt.Histories(before).Select(0, nil), bt.Histories(bt.Snapshot(t, mc, newDest)))
	var versions, markers int64 // versitygw's copy onto itself makes no new version
	for _, v := range before {
		if v.DeleteMarker {
			markers++
		} else {
			versions++
		}
	}
	if p.VersionsToWrite != versions || p.DeleteMarkersToWrite != markers {
		t.Errorf("all: preview of %d versions, %d delete markers; want %d, %d", p.VersionsToWrite, p.DeleteMarkersToWrite, versions, markers)
	}
}

// checkRestoreAgrees compares a restore's counters with its preview.
func checkRestoreAgrees(t *testing.T, p previewOut, st restore.Stats) {
	t.Helper()
	if st.ObjectsRestored != p.Write.Count+p.DeleteMark.Count || st.ObjectsSkipped != p.Skip.Count ||
		st.VersionsRestored != p.VersionsToWrite || st.DeleteMarkersRestored != p.DeleteMarkersToWrite ||
		st.BytesRestored != p.BytesToWrite || st.ObjectsFailed != 0 {
		t.Errorf("restore did %+v, preview said %+v", st, p)
	}
}

// checkKept checks that every entry of before is still in after, the same
// (a rollback deletes nothing), and that after has added more.
func checkKept(t *testing.T, before, after []bt.Version, added int) {
	t.Helper()
	byID := map[string]bt.Version{}
	for _, v := range after {
		byID[v.Key+"\x00"+v.VersionID] = v
	}
	for _, v := range before {
		a, ok := byID[v.Key+"\x00"+v.VersionID]
		if !ok {
			t.Errorf("%q version %s is gone", v.Key, v.VersionID)
			continue
		}
		if d := bt.Diff(bt.History{v.Key: {v}}, bt.History{v.Key: {a}}); len(d) > 0 {
			t.Errorf("%q version %s changed: %v", v.Key, v.VersionID, d)
		}
	}
	if len(after) != len(before)+added {
		t.Errorf("%d entries after, %d before: want %d added", len(after), len(before), added)
	}
}

func TestRollbackRefused(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{})
	mc := e.S3.Client(t)
	if _, err := e.Client.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("main")}); err != nil {
		t.Fatal(err)
	}
	plain := e.S3.NewBucket(t, false)
	versioned := e.S3.NewBucket(t, true)
	for _, b := range []string{plain, versioned} {
		if _, err := mc.PutObject(ctx, b, "k", strings.NewReader("v"), 1, minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	rpPlain, rpVersioned := backupNow(t, e, plain), backupNow(t, e, versioned)
	for _, tc := range []struct {
		name, rp string
		md       map[string]string
		want     string
	}{
		{"unversioned bucket", rpPlain, map[string]string{"RestoreMode": "rollback"}, "not versioned"},
		{"another bucket", rpVersioned, map[string]string{"RestoreMode": "rollback", "DestinationBucketName": plain}, "own bucket"},
		{"new bucket", rpVersioned, map[string]string{"RestoreMode": "rollback", "NewBucket": "true"}, "NewBucket"},
		{"unknown mode", rpVersioned, map[string]string{"RestoreMode": "rewind", "DestinationBucketName": versioned}, "RestoreMode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.Client.StartRestoreJob(ctx, &backup.StartRestoreJobInput{RecoveryPointArn: aws.String(tc.rp),
				ResourceType: aws.String("S3"), Metadata: tc.md})
			if apiCode(err) != "InvalidParameterValueException" || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("StartRestoreJob: %v, want InvalidParameterValueException about %q", err, tc.want)
			}
			code, _, body := postPreview(t, e, tc.rp, tc.md)
			if code != 400 || !strings.Contains(body, "InvalidParameterValueException") || !strings.Contains(body, tc.want) {
				t.Errorf("preview: %d %s", code, body)
			}
		})
	}
	if code, _, body := postPreview(t, e, "arn:aws:backup:us-east-1:000000000000:recovery-point:nope", map[string]string{"DestinationBucketName": versioned}); code != 404 || !strings.Contains(body, "ResourceNotFoundException") {
		t.Errorf("preview of an unknown recovery point: %d %s", code, body)
	}
}
