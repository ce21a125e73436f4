package backup_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/tags"

	"github.com/cofferbackup/coffer/internal/backup"
	bt "github.com/cofferbackup/coffer/internal/backup/backuptest"
	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/restore"
	"github.com/cofferbackup/coffer/internal/retry"
	"github.com/cofferbackup/coffer/internal/s3source"
	"github.com/cofferbackup/coffer/internal/testserver"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vaultmaint"
)

func TestMain(m *testing.M) { testserver.Main(m) }

// eachServer runs fn as a parallel subtest against every real server
// kind, with a new bucket (versioned or not) there.
func eachServer(t *testing.T, versioned bool, fn func(t *testing.T, srv *testserver.Server, mc *minio.Client, bucket string)) {
	t.Helper()
	for _, kind := range testserver.Kinds() {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			srv := testserver.Shared(t, kind)
			mc := srv.Client(t)
			fn(t, srv, mc, srv.NewBucket(t, versioned))
		})
	}
}

// put writes size deterministic bytes (seed) to bucket/key.
func put(t testing.TB, mc *minio.Client, bucket, key string, seed uint64, size int, opts minio.PutObjectOptions) {
	t.Helper()
	if _, err := mc.PutObject(context.Background(), bucket, key, bytes.NewReader(bt.Bytes(seed, size)), int64(size), opts); err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
}

// dataByVersion maps "key\x00versionID" to the record's data object.
func dataByVersion(recs []recpoint.Record) map[string]recpoint.Record {
	m := map[string]recpoint.Record{}
	for _, r := range recs {
		m[r.Key+"\x00"+r.VersionID] = r
	}
	return m
}

// restoreExact restores m to a new bucket and compares it with want.
func restoreExact(t *testing.T, srv *testserver.Server, src *s3source.Client, v *vault.Vault, m recpoint.Manifest, want bt.History) {
	t.Helper()
	dest := testserver.UniqueBucketName("check")
	bt.Restore(t, src, v, m, restore.Options{DestBucket: dest, NewBucket: true})
	bt.Compare(t, want, bt.Histories(bt.Snapshot(t, srv.Client(t), dest)))
}

// fillIncremental writes ten keys with one to three tagged versions, a
// zero-byte object and a delete marker; it returns the bytes and versions.
func fillIncremental(t *testing.T, mc *minio.Client, bucket string) (allBytes int64, versions int) {
	for i := range 10 {
		key := fmt.Sprintf("k%02d", i)
		for j := range 1 + i%3 {
			size := 10_000 + i*1000 + j
			put(t, mc, bucket, key, uint64(i*10+j), size, minio.PutObjectOptions{UserTags: map[string]string{"v": fmt.Sprint(j)}})
			allBytes += int64(size)
			versions++
		}
	}
	put(t, mc, bucket, "zero", 1, 0, minio.PutObjectOptions{})
	if err := mc.RemoveObject(context.Background(), bucket, "k09", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	return allBytes, versions + 1
}

// changeIncremental adds a version of k03, a key k05a (3333 bytes), deletes
// k04 and retags k06; it returns the bytes of the new versions.
func changeIncremental(t *testing.T, mc *minio.Client, bucket string) int64 {
	ctx := context.Background()
	put(t, mc, bucket, "k03", 99, 7777, minio.PutObjectOptions{})
	put(t, mc, bucket, "k05a", 98, 3333, minio.PutObjectOptions{})
	if err := mc.RemoveObject(ctx, bucket, "k04", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	newTags, _ := tags.NewTags(map[string]string{"retagged": "yes"}, true)
	if err := mc.PutObjectTagging(ctx, bucket, "k06", newTags, minio.PutObjectTaggingOptions{}); err != nil {
		t.Fatal(err)
	}
	return 7777 + 3333
}

// checkReuse asserts that every version of m1 still listed in m2 reuses
// its data object, and that k06's new tags were read.
func checkReuse(t *testing.T, v *vault.Vault, m1, m2 recpoint.Manifest, versions int) {
	recs1 := dataByVersion(bt.Records(t, v, m1))
	reused := 0
	for _, r := range bt.Records(t, v, m2) {
		old, ok := recs1[r.Key+"\x00"+r.VersionID]
		if !ok || r.DeleteMarker {
			continue
		}
		reused++
		if r.Data != old.Data || r.ETag != old.ETag {
			t.Errorf("%s %s: data %q, was %q in the first recovery point", r.Key, r.VersionID, r.Data, old.Data)
		}
		if r.Key == "k06" && r.IsLatest && r.Tags["retagged"] != "yes" {
			t.Errorf("k06 tags not re-read: %v", r.Tags)
		}
	}
	if reused != versions {
		t.Fatalf("%d versions reused, want %d", reused, versions)
	}
}

// TestIncremental checks that a second backup reads from the source only
// the data of new versions, references the rest, re-reads changed tags,
// and that both recovery points restore exactly.
func TestIncremental(t *testing.T) {
	t.Parallel()
	srv := testserver.Shared(t, testserver.MinIO)
	mc := srv.Client(t)
	bucket := srv.NewBucket(t, true)
	allBytes, versions := fillIncremental(t, mc, bucket)
	snap1 := bt.Histories(bt.Snapshot(t, mc, bucket))

	proxy := bt.NewProxy(t, srv.Endpoint)
	src := bt.Source(t, srv, proxy.URL)
	v := bt.Vault(t)
	var progressCalls atomic.Int64
	var last backup.Stats
	opts := bt.Options(bucket, nil)
	res1, err := backup.Run(context.Background(), src, v, opts, func(s backup.Stats) { progressCalls.Add(1); last = s })
	if err != nil {
		t.Fatal(err)
	}
	if proxy.ObjectBytes() != allBytes || res1.Stats.BytesTransferred != allBytes {
		t.Fatalf("full backup read %d bytes (stats %d), want %d", proxy.ObjectBytes(), res1.Stats.BytesTransferred, allBytes)
	}
	if s := res1.Stats; s.ObjectsTransferred != int64(versions) || s.ObjectsDeduplicated != 0 || s.DeleteMarkers != 1 ||
		s.ObjectsScanned != int64(versions) || s.BytesScanned != allBytes {
		t.Fatalf("full backup stats %+v, want %d versions", s, versions)
	}
	if progressCalls.Load() < 1 || last != res1.Stats {
		t.Fatalf("progress called %d times, last %+v, result %+v", progressCalls.Load(), last, res1.Stats)
	}
	m1 := res1.Manifest
	if m1.Status != recpoint.StatusCompleted || m1.RecordCount != int64(versions+1) || m1.ObjectCount != int64(versions) ||
		m1.TotalBytes != allBytes || !m1.Versioned || m1.Bucket != bucket || m1.ID != opts.RecoveryPointID ||
		m1.CreatedAt.IsZero() || m1.CompletedAt.Before(m1.CreatedAt) {
		t.Fatalf("manifest %+v", m1)
	}

	newBytes := changeIncremental(t, mc, bucket)
	snap2 := bt.Histories(bt.Snapshot(t, mc, bucket))
	proxy.Reset()
	res2 := bt.Backup(t, src, v, bucket, &m1, nil)
	if got := proxy.ObjectBytes(); got != newBytes || proxy.ObjectGets() != 2 {
		t.Fatalf("incremental backup read %d bytes in %d GETs, want %d in 2", got, proxy.ObjectGets(), newBytes)
	}
	if s := res2.Stats; s.ObjectsTransferred != 2 || s.BytesTransferred != newBytes ||
		s.ObjectsDeduplicated != int64(versions) || s.BytesDeduplicated != allBytes || s.DeleteMarkers != 2 {
		t.Fatalf("incremental stats %+v", s)
	}
	checkReuse(t, v, m1, res2.Manifest, versions)
	restoreExact(t, srv, src, v, res2.Manifest, snap2.Select(0, nil))
	restoreExact(t, srv, src, v, m1, snap1.Select(0, nil))
}

// TestIncrementalUnversioned checks change detection by ETag, size and
// last-modified on buckets that were never versioned.
func TestIncrementalUnversioned(t *testing.T) {
	eachServer(t, false, func(t *testing.T, srv *testserver.Server, mc *minio.Client, bucket string) {
		for i := range 5 {
			put(t, mc, bucket, fmt.Sprintf("u%d", i), uint64(i), 5000+i, minio.PutObjectOptions{})
		}
		proxy := bt.NewProxy(t, srv.Endpoint)
		src := bt.Source(t, srv, proxy.URL)
		v := bt.Vault(t)
		res1 := bt.Backup(t, src, v, bucket, nil, nil)
		if res1.Manifest.Versioned || !strings.Contains(res1.Note, "never been versioned") || res1.Manifest.ObjectCount != 5 {
			t.Fatalf("manifest %+v, note %q", res1.Manifest, res1.Note)
		}
		put(t, mc, bucket, "u2", 77, 5002, minio.PutObjectOptions{}) // same size, new content
		put(t, mc, bucket, "u9", 78, 1234, minio.PutObjectOptions{})
		if err := mc.RemoveObject(context.Background(), bucket, "u4", minio.RemoveObjectOptions{}); err != nil {
			t.Fatal(err)
		}
		want := bt.Histories(bt.Snapshot(t, mc, bucket))
		proxy.Reset()
		res2 := bt.Backup(t, src, v, bucket, &res1.Manifest, nil)
		if got := proxy.ObjectBytes(); got != 5002+1234 {
			t.Fatalf("incremental read %d bytes, want %d", got, 5002+1234)
		}
		if s := res2.Stats; s.ObjectsDeduplicated != 3 || s.ObjectsTransferred != 2 || res2.Manifest.ObjectCount != 5 {
			t.Fatalf("stats %+v manifest %+v", s, res2.Manifest)
		}
		restoreExact(t, srv, src, v, res2.Manifest, want.Select(0, nil))
	})
}

// TestPartial makes one key unreadable (403) and cuts another's body short
// on every attempt: both are left out and reported, the rest restores.
func TestPartial(t *testing.T) {
	t.Parallel()
	srv := testserver.Shared(t, testserver.MinIO)
	mc := srv.Client(t)
	bucket := srv.NewBucket(t, true)
	for i := range 6 {
		put(t, mc, bucket, fmt.Sprintf("p%d", i), uint64(i), 20_000, minio.PutObjectOptions{})
	}
	want := bt.Histories(bt.Snapshot(t, mc, bucket))
	proxy := bt.NewProxy(t, srv.Endpoint)
	proxy.Deny(bucket, "p3")
	proxy.Truncate(bucket, "p4", 1000)
	src := bt.Source(t, srv, proxy.URL)
	v := bt.Vault(t)
	res := bt.Backup(t, src, v, bucket, nil, nil)
	m := res.Manifest
	if m.Status != recpoint.StatusPartial || m.FailedCount != 2 || res.Stats.ObjectsFailed != 2 || m.ObjectCount != 4 {
		t.Fatalf("manifest %+v stats %+v", m, res.Stats)
	}
	// The status message reaches the catalog: a count, no key; the
	// sample (in the vault) names them.
	if strings.Contains(m.StatusMessage, "p3") || strings.Contains(m.StatusMessage, "p4") || !strings.HasPrefix(m.StatusMessage, "2 object versions") ||
		len(m.FailedSample) != 2 || !strings.Contains(strings.Join(m.FailedSample, " "), "p3") {
		t.Fatalf("status message %q, sample %q", m.StatusMessage, m.FailedSample)
	}
	reasons := map[string]string{}
	for _, f := range res.Failures {
		reasons[f.Key] = f.Reason
	}
	if !strings.Contains(reasons["p3"], "access denied") || reasons["p4"] == "" || len(reasons) != 2 {
		t.Fatalf("failures %+v", res.Failures)
	}
	if got := proxy.Gets(bucket, "p4"); got != retry.Default.Attempts {
		t.Errorf("truncated object read %d times, want the retry policy's %d attempts", got, retry.Default.Attempts)
	}
	restoreExact(t, srv, src, v, m, want.Select(0, func(k string) bool { return k != "p3" && k != "p4" }))
}

// TestCancel stops a backup midway: it returns the context's error and
// registers nothing; the vault stays usable.
func TestCancel(t *testing.T) {
	t.Parallel()
	srv := testserver.Shared(t, testserver.MinIO)
	mc := srv.Client(t)
	bucket := srv.NewBucket(t, true)
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			put(t, mc, bucket, fmt.Sprintf("c%02d", i), uint64(i), 64<<10, minio.PutObjectOptions{})
		}()
	}
	wg.Wait()
	proxy := bt.NewProxy(t, srv.Endpoint)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var reads atomic.Int64
	proxy.OnObjectRead(func(string, string) {
		if reads.Add(1) == 5 {
			cancel()
		}
	})
	src := bt.Source(t, srv, proxy.URL)
	v := bt.Vault(t)
	opts := bt.Options(bucket, nil)
	opts.Parallelism = 2
	_, err := backup.Run(ctx, src, v, opts, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled backup returned %v", err)
	}
	rps, err := v.RecoveryPoints(context.Background())
	if err != nil || len(rps) != 0 {
		t.Fatalf("recovery points after cancel: %v, %v", rps, err)
	}
	mctx, mcancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer mcancel()
	if _, err := vaultmaint.Maintain(mctx, v); err != nil {
		t.Fatalf("maintain after cancel (writer not finished?): %v", err)
	}
	proxy.OnObjectRead(nil)
	if res := bt.Backup(t, src, v, bucket, nil, nil); res.Manifest.ObjectCount != 40 {
		t.Fatalf("backup after cancel: %+v", res.Manifest)
	}
}

func TestMissingBucket(t *testing.T) {
	t.Parallel()
	srv := testserver.Shared(t, testserver.MinIO)
	v := bt.Vault(t)
	_, err := backup.Run(context.Background(), bt.Source(t, srv, ""), v, bt.Options("no-such-bucket-here", nil), nil)
	if !errors.Is(err, s3source.ErrNoSuchBucket) || !strings.Contains(err.Error(), "no-such-bucket-here") {
		t.Fatalf("backup of a missing bucket: %v", err)
	}
	if rps, _ := v.RecoveryPoints(context.Background()); len(rps) != 0 {
		t.Fatalf("recovery points: %v", rps)
	}
}

// TestSettingsAndLock checks disabled tag and ACL capture and that object
// lock state is captured on a bucket with object lock.
func TestSettingsAndLock(t *testing.T) {
	t.Parallel()
	srv := testserver.Shared(t, testserver.MinIO)
	mc := srv.Client(t)
	bucket := srv.NewBucketWith(t, testserver.BucketOptions{ObjectLock: true})
	until := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
	put(t, mc, bucket, "locked", 1, 100, minio.PutObjectOptions{
		Mode: minio.Governance, RetainUntilDate: until, LegalHold: minio.LegalHoldEnabled,
		UserTags: map[string]string{"t": "1"},
	})
	put(t, mc, bucket, "free", 2, 100, minio.PutObjectOptions{UserTags: map[string]string{"t": "2"}})
	src := bt.Source(t, srv, "")
	v := bt.Vault(t)
	res := bt.Backup(t, src, v, bucket, nil, func(o *backup.Options) { o.BackupTags, o.BackupACLs = false, false })
	recs := bt.Records(t, v, res.Manifest)
	if len(recs) != 2 {
		t.Fatalf("records %+v", recs)
	}
	for _, r := range recs {
		if r.TagsState != recpoint.StateDisabled || r.Tags != nil || r.ACLState != recpoint.StateDisabled || r.ACL != nil {
			t.Errorf("%s: tags %v (%s), acl %v (%s) with capture disabled", r.Key, r.Tags, r.TagsState, r.ACL, r.ACLState)
		}
	}
	free, locked := recs[0], recs[1]
	if free.Lock != nil {
		t.Errorf("free object has lock %+v", free.Lock)
	}
	if l := locked.Lock; l == nil || l.Mode != "GOVERNANCE" || !l.LegalHold || l.RetainUntil == nil || !l.RetainUntil.Equal(until) {
		t.Errorf("locked object lock %+v, want GOVERNANCE until %v with legal hold", l, until)
	}
}

// TestUnversionedTags: the tags of objects in a bucket that was never
// versioned are captured on every server. versitygw lists such objects as
// version "null" and refuses ?tagging&versionId=null, and the backup
// recorded their tags as unavailable (restored without them).
func TestUnversionedTags(t *testing.T) {
	eachServer(t, false, func(t *testing.T, srv *testserver.Server, mc *minio.Client, bucket string) {
		put(t, mc, bucket, "tagged", 1, 100, minio.PutObjectOptions{UserTags: map[string]string{"team": "blue", "k 1": "v w"}})
		put(t, mc, bucket, "plain", 2, 50, minio.PutObjectOptions{})
		src := bt.Source(t, srv, "")
		v := bt.Vault(t)
		res := bt.Backup(t, src, v, bucket, nil, nil)
		for _, r := range bt.Records(t, v, res.Manifest) {
			if r.TagsState != recpoint.StateCaptured {
				t.Errorf("%q: tags %s (note %q)", r.Key, r.TagsState, res.Note)
			}
			if r.Key == "tagged" && (r.Tags["team"] != "blue" || r.Tags["k 1"] != "v w") {
				t.Errorf("%q: tags %v", r.Key, r.Tags)
			}
		}
		restoreExact(t, srv, src, v, res.Manifest, bt.Histories(bt.Snapshot(t, mc, bucket)).Select(0, nil))
	})
}
