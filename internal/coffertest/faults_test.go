package coffertest_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/aws/smithy-go"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/tags"

	"github.com/cofferbackup/coffer/internal/coffertest"
	"github.com/cofferbackup/coffer/internal/s3source"
	"github.com/cofferbackup/coffer/internal/service"
	"github.com/cofferbackup/coffer/internal/testserver"
)

func TestMain(m *testing.M) { testserver.Main(m) }

var ctx = context.Background()

// faultSeed and faultRate are the proxy's seed and rate: 11 and 5% unless
// COFFER_FAULT_SEED or COFFER_FAULT_RATE say otherwise (to replay a run,
// or to hunt with more faults).
func faultSeed(t *testing.T) int64 {
	seed := int64(11)
	if s := os.Getenv("COFFER_FAULT_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseInt(s, 10, 64); err != nil {
			t.Fatalf("COFFER_FAULT_SEED: %v", err)
		}
	}
	t.Logf("fault seed %d (COFFER_FAULT_SEED)", seed)
	return seed
}

func faultRate(t *testing.T) float64 {
	rate := 0.05
	if s := os.Getenv("COFFER_FAULT_RATE"); s != "" {
		var err error
		if rate, err = strconv.ParseFloat(s, 64); err != nil {
			t.Fatalf("COFFER_FAULT_RATE: %v", err)
		}
	}
	return rate
}

// startBehind runs coffer with its S3 connection (backup source and
// restore destination) through proxy.
func startBehind(t *testing.T, srv *testserver.Server, proxy *coffertest.FaultProxy, configure func(*service.Config)) *coffertest.Env {
	return coffertest.Start(t, coffertest.Options{S3: srv, Configure: func(c *service.Config) {
		src := c.Sources[service.DefaultConnection]
		src.Endpoint = proxy.URL
		c.Sources[service.DefaultConnection] = src
		if configure != nil {
			configure(c)
		}
	}})
}

// fillVersions writes a bucket of n keys, each of one to three versions
// of assorted sizes (zero bytes to a multipart-sized one), some with
// metadata and tags, some ending in a delete marker.
func fillVersions(t *testing.T, mc *minio.Client, bucket string, n int) {
	t.Helper()
	sizes := []int{0, 1, 100, 64 << 10, 300 << 10}
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("dir%d/key-%03d", i%3, i)
		for v := 0; v <= i%3; v++ {
			size := sizes[(i+v)%len(sizes)]
			if i == 7 && v == 1 || i == 8 && v == 0 {
				size = 6 << 20 // above the restore's part size: multipart
			}
			unit := []byte(fmt.Sprintf("%s/v%d|", key, v))
			data := bytes.Repeat(unit, size/len(unit)+1)[:size]
			opts := minio.PutObjectOptions{}
			if (i+v)%2 == 0 {
				opts.ContentType = "text/x-coffer"
				opts.UserMetadata = map[string]string{"origin": fmt.Sprintf("v%d", v)}
			}
			if (i+v)%3 == 0 {
				opts.UserTags = map[string]string{"tier": fmt.Sprint(v), "k": fmt.Sprint(i)}
			}
			if _, err := mc.PutObject(ctx, bucket, key, bytes.NewReader(data), int64(size), opts); err != nil {
				t.Fatalf("put %s: %v", key, err)
			}
		}
		for d := 0; i%11 == 5 && d <= i%2; d++ {
			// Key 5 twice: two delete markers in a row (one on MinIO,
			// which adds none on a marker).
			if err := mc.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{}); err != nil {
				t.Fatalf("delete %s: %v", key, err)
			}
		}
	}
}

// versionState is what a restore must reproduce of one version.
type versionState struct {
	DeleteMarker bool
	Size         int64
	SHA256       [32]byte
	ContentType  string
	Meta         string // user metadata, sorted
	Tags         string // sorted
}

// bucketVersions reads every version of every key, oldest first, straight
// from the server (no proxy).
func bucketVersions(t *testing.T, mc *minio.Client, bucket string) map[string][]versionState {
	t.Helper()
	out := map[string][]versionState{}
	for o := range mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true, WithVersions: true}) {
		if o.Err != nil {
			t.Fatalf("list %s: %v", bucket, o.Err)
		}
		var st versionState
		if o.IsDeleteMarker {
			st.DeleteMarker = true
		} else {
			st = readVersion(t, mc, bucket, o.Key, o.VersionID)
		}
		out[o.Key] = append([]versionState{st}, out[o.Key]...) // listed newest first
	}
	return out
}

// totalSize is the sum of the versions' sizes.
func totalSize(vs map[string][]versionState) int64 {
	var n int64
	for _, key := range vs {
		for _, v := range key {
			n += v.Size
		}
	}
	return n
}

func readVersion(t *testing.T, mc *minio.Client, bucket, key, vid string) versionState {
	t.Helper()
	obj, err := mc.GetObject(ctx, bucket, key, minio.GetObjectOptions{VersionID: vid})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("read %s/%s@%s: %v", bucket, key, vid, err)
	}
	info, err := obj.Stat()
	if err != nil {
		t.Fatal(err)
	}
	var meta []string
	for k, v := range info.UserMetadata {
		meta = append(meta, strings.ToLower(k)+"="+v)
	}
	sort.Strings(meta)
	tg, err := mc.GetObjectTagging(ctx, bucket, key, minio.GetObjectTaggingOptions{VersionID: vid})
	if err != nil {
		t.Fatalf("tags of %s/%s@%s: %v", bucket, key, vid, err)
	}
	return versionState{Size: int64(len(data)), SHA256: sha256.Sum256(data), ContentType: info.ContentType,
		Meta: strings.Join(meta, ","), Tags: sortedTags(tg)}
}

func sortedTags(tg *tags.Tags) string {
	var kv []string
	for k, v := range tg.ToMap() {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}

// compareVersions fails the test for every key of want whose versions
// got differs in, unless excused says it may (a key a PARTIAL backup
// named as failed), and for keys got holds beyond want. It returns the
// number of versions compared.
func compareVersions(t *testing.T, want, got map[string][]versionState, excused func(key string) bool) int {
	t.Helper()
	n := 0
	for key, wv := range want {
		gv := got[key]
		same := len(gv) == len(wv)
		for i := 0; same && i < len(wv); i++ {
			same = gv[i] == wv[i]
		}
		switch {
		case same:
			n += len(wv)
		case excused(key):
			t.Logf("%s differs, named as failed by the backup", key)
		default:
			t.Errorf("%s: restored %+v, want %+v", key, gv, wv)
		}
	}
	for key := range got {
		if _, ok := want[key]; !ok {
			t.Errorf("restored an unexpected key %q", key)
		}
	}
	return n
}

func restoreAll(t *testing.T, c *backup.Client, rpARN string) (string, *backup.DescribeRestoreJobOutput) {
	t.Helper()
	dest := testserver.UniqueBucketName("faults")
	rj, err := c.StartRestoreJob(ctx, &backup.StartRestoreJobInput{RecoveryPointArn: aws.String(rpARN),
		IamRoleArn: aws.String("arn:aws:iam::000000000000:role/coffertest"),
		Metadata:   map[string]string{"DestinationBucketName": dest, "NewBucket": "true", "RestoreLatestVersionsUpTo": "all"}})
	if err != nil {
		t.Fatalf("StartRestoreJob: %v", err)
	}
	return dest, coffertest.WaitRestoreJob(t, c, aws.ToString(rj.RestoreJobId))
}

// TestBackupRestoreUnderFaults: a proxy between coffer and the S3 server
// injects 503 SlowDown (with and without Retry-After), connection resets
// (mid-request and mid-response), stalls and truncated bodies into 5% of
// the requests, reads and writes alike. The backup ends COMPLETED, or
// PARTIAL naming the keys it could not read; restored without faults,
// every other version comes back byte for byte with its metadata and
// tags. A restore under the same faults is exact, or fails saying why.
func TestBackupRestoreUnderFaults(t *testing.T) {
	for _, kind := range testserver.Kinds() {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			srv := testserver.Shared(t, kind)
			mc := srv.Client(t)
			bucket := srv.NewBucket(t, true)
			fillVersions(t, mc, bucket, 30)
			want := bucketVersions(t, mc, bucket)

			proxy := coffertest.NewFaultProxy(t, srv.Endpoint, coffertest.FaultOptions{Seed: faultSeed(t), Rate: faultRate(t)})
			e := startBehind(t, srv, proxy, func(c *service.Config) {
				src := c.Sources[service.DefaultConnection]
				src.PartSize = 5 << 20
				c.Sources[service.DefaultConnection] = src
			})
			if _, err := e.Client.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("faults")}); err != nil {
				t.Fatal(err)
			}
			bj, err := e.Client.StartBackupJob(ctx, &backup.StartBackupJobInput{BackupVaultName: aws.String("faults"),
				ResourceArn: aws.String("arn:aws:s3:::" + bucket), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x")})
			if err != nil {
				t.Fatal(err)
			}
			job := e.WaitBackup(t, aws.ToString(bj.BackupJobId))
			msg := aws.ToString(job.StatusMessage)
			t.Logf("backup under faults: %s %q; proxy: %s", job.State, msg, proxy)
			if job.State != types.BackupJobStateCompleted && job.State != types.BackupJobStatePartial {
				t.Fatalf("backup under faults: %s %q, want COMPLETED or PARTIAL", job.State, msg)
			}
			backupFaults := proxy.Total()
			if got, size := aws.ToInt64(job.BytesTransferred), totalSize(want); got != size {
				t.Errorf("backup transferred %d bytes, want the bucket's %d: a retried read counts once", got, size)
			}

			proxy.SetRate(0)
			dest, rj := restoreAll(t, e.Client, aws.ToString(bj.RecoveryPointArn))
			if rj.Status != types.RestoreJobStatusCompleted {
				t.Fatalf("restore without faults: %s %q", rj.Status, aws.ToString(rj.StatusMessage))
			}
			excused := func(key string) bool { return job.State == types.BackupJobStatePartial && strings.Contains(msg, key) }
			n := compareVersions(t, want, bucketVersions(t, mc, dest), excused)
			t.Logf("%d versions of %d keys compared after the backup under %d faults", n, len(want), backupFaults)

			proxy.SetRate(faultRate(t))
			dest, rj = restoreAll(t, e.Client, aws.ToString(bj.RecoveryPointArn))
			restoreFaults := proxy.Total() - backupFaults
			t.Logf("restore under faults: %s %q; proxy: %s", rj.Status, aws.ToString(rj.StatusMessage), proxy)
			switch rj.Status {
			case types.RestoreJobStatusCompleted:
				proxy.SetRate(0)
				n := compareVersions(t, want, bucketVersions(t, mc, dest), excused)
				t.Logf("%d versions compared after the restore under %d faults", n, restoreFaults)
			case types.RestoreJobStatusFailed:
				if aws.ToString(rj.StatusMessage) == "" {
					t.Fatal("restore under faults FAILED without saying why")
				}
			default:
				t.Fatalf("restore under faults: %s %q", rj.Status, aws.ToString(rj.StatusMessage))
			}
			if backupFaults == 0 || restoreFaults == 0 {
				t.Errorf("faults injected: %d in the backup, %d in the restore; want some in each", backupFaults, restoreFaults)
			}
		})
	}
}

// TestStallLongerThanTimeouts: answers that stop in the middle of their
// body, or before their headers, for longer than the S3 connection's idle
// timeout (2 s here, 1 minute by default) are given up and tried again:
// the backup completes in seconds and its recovery point restores exactly.
// A stalled body used to hold its worker for as long as the stall lasted
// (forever, for a peer that never sends again): nothing timed body reads.
func TestStallLongerThanTimeouts(t *testing.T) {
	srv := testserver.Shared(t, testserver.MinIO)
	mc := srv.Client(t)
	bucket := srv.NewBucket(t, true)
	fillVersions(t, mc, bucket, 12)
	want := bucketVersions(t, mc, bucket)
	proxy := coffertest.NewFaultProxy(t, srv.Endpoint, coffertest.FaultOptions{Seed: faultSeed(t), Rate: 0.1,
		Faults: []coffertest.Fault{coffertest.Stall}, Stall: 10 * time.Minute})
	e := startBehind(t, srv, proxy, func(c *service.Config) {
		src := c.Sources[service.DefaultConnection]
		src.IdleTimeout = 2 * time.Second
		c.Sources[service.DefaultConnection] = src
	})
	if _, err := e.Client.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("stalls")}); err != nil {
		t.Fatal(err)
	}
	bj, err := e.Client.StartBackupJob(ctx, &backup.StartBackupJobInput{BackupVaultName: aws.String("stalls"),
		ResourceArn: aws.String("arn:aws:s3:::" + bucket), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x")})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	job := waitBackupFor(t, e.Client, aws.ToString(bj.BackupJobId), 60*time.Second)
	t.Logf("backup through %d stalls: %s in %v; proxy: %s", proxy.Total(), job.State, time.Since(start).Round(time.Millisecond), proxy)
	if job.State != types.BackupJobStateCompleted || proxy.Total() == 0 {
		t.Fatalf("backup: %s %q after %d stalls; want COMPLETED through some", job.State, aws.ToString(job.StatusMessage), proxy.Total())
	}
	proxy.SetRate(0)
	dest, rj := restoreAll(t, e.Client, aws.ToString(bj.RecoveryPointArn))
	if rj.Status != types.RestoreJobStatusCompleted {
		t.Fatalf("restore: %s %q", rj.Status, aws.ToString(rj.StatusMessage))
	}
	compareVersions(t, want, bucketVersions(t, mc, dest), func(string) bool { return false })
}

// waitBackupFor polls a backup job until it ends or d passes (then the
// test fails).
func waitBackupFor(t *testing.T, c *backup.Client, id string, d time.Duration) *backup.DescribeBackupJobOutput {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		out, err := c.DescribeBackupJob(ctx, &backup.DescribeBackupJobInput{BackupJobId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		switch out.State {
		case types.BackupJobStateCompleted, types.BackupJobStatePartial, types.BackupJobStateFailed,
			types.BackupJobStateAborted, types.BackupJobStateExpired:
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("backup job %s still %s after %v (%q)", id, out.State, d, aws.ToString(out.StatusMessage))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestEndpointDownFailsClearly: an S3 endpoint that resets every
// connection (every write, for the restore) fails a backup and a restore
// within seconds, FAILED with the network error in the message. Such errors look like an unreachable
// catalog database; jobs took them for one, stayed RUNNING, were run
// again by the takeover and given up as "taken over", the reason lost.
func TestEndpointDownFailsClearly(t *testing.T) {
	srv := testserver.Shared(t, testserver.MinIO)
	bucket := srv.NewBucket(t, true)
	coffertest.FillBucket(t, srv.Client(t), bucket, "d/", 5, 1000)
	var writesOnly atomic.Bool // then reads go through: StartRestoreJob reads the destination
	proxy := coffertest.NewFaultProxy(t, srv.Endpoint, coffertest.FaultOptions{Rate: 1, Faults: []coffertest.Fault{coffertest.ResetRequest},
		Match: func(r *http.Request) bool {
			return !writesOnly.Load() || r.Method != http.MethodGet && r.Method != http.MethodHead
		}})
	proxy.SetRate(0)
	e := startBehind(t, srv, proxy, nil)
	if _, err := e.Client.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("down")}); err != nil {
		t.Fatal(err)
	}
	start := func() string {
		bj, err := e.Client.StartBackupJob(ctx, &backup.StartBackupJobInput{BackupVaultName: aws.String("down"),
			ResourceArn: aws.String("arn:aws:s3:::" + bucket), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x")})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(bj.BackupJobId)
	}
	ok := waitBackupFor(t, e.Client, start(), 30*time.Second)
	if ok.State != types.BackupJobStateCompleted {
		t.Fatalf("backup before the endpoint went down: %s %q", ok.State, aws.ToString(ok.StatusMessage))
	}
	clear := func(what, msg string) {
		t.Helper()
		if strings.Contains(msg, "taken over") || !strings.Contains(msg, "connection reset") && !strings.Contains(msg, "EOF") {
			t.Errorf("%s: message %q, want the network error", what, msg)
		}
	}
	proxy.SetRate(1)
	failed := waitBackupFor(t, e.Client, start(), 25*time.Second)
	t.Logf("backup: %s %q", failed.State, aws.ToString(failed.StatusMessage))
	if failed.State != types.BackupJobStateFailed {
		t.Errorf("backup with the endpoint down: %s, want FAILED", failed.State)
	}
	clear("backup", aws.ToString(failed.StatusMessage))

	writesOnly.Store(true)
	rj, err := e.Client.StartRestoreJob(ctx, &backup.StartRestoreJobInput{RecoveryPointArn: ok.RecoveryPointArn,
		IamRoleArn: aws.String("arn:aws:iam::000000000000:role/coffertest"),
		Metadata:   map[string]string{"DestinationBucketName": testserver.UniqueBucketName("down"), "NewBucket": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	begun := time.Now()
	r := coffertest.WaitRestoreJob(t, e.Client, aws.ToString(rj.RestoreJobId))
	t.Logf("restore: %s %q in %v; proxy: %s", r.Status, aws.ToString(r.StatusMessage), time.Since(begun).Round(time.Millisecond), proxy)
	if r.Status != types.RestoreJobStatusFailed || time.Since(begun) > 25*time.Second {
		t.Errorf("restore with the endpoint refusing writes: %s after %v, want FAILED within 25 s", r.Status, time.Since(begun))
	}
	clear("restore", aws.ToString(r.StatusMessage))

	// With reads refused too, StartRestoreJob cannot check its
	// destination: a 503 saying so (retryable), not an internal error.
	writesOnly.Store(false)
	_, err = e.Client.StartRestoreJob(ctx, &backup.StartRestoreJobInput{RecoveryPointArn: ok.RecoveryPointArn,
		IamRoleArn: aws.String("arn:aws:iam::000000000000:role/coffertest"),
		Metadata:   map[string]string{"DestinationBucketName": testserver.UniqueBucketName("down"), "NewBucket": "true"}})
	var re *awshttp.ResponseError
	var ae smithy.APIError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusServiceUnavailable || !errors.As(err, &ae) ||
		ae.ErrorCode() != "ServiceUnavailableException" || !strings.Contains(ae.ErrorMessage(), "destination bucket") {
		t.Errorf("StartRestoreJob with the endpoint down: %v, want 503 ServiceUnavailableException naming the destination bucket", err)
	}
}

// TestRestoreLostWriteAnswers: the endpoint does the write but its answer
// never reaches coffer (the connection is reset after the endpoint's
// work), for the first write request of every kind (a PUT of an object, a
// delete, a multipart upload's creation, part and completion) and every
// fourth write. The restore is exact: every version once, with its bytes,
// metadata and tags. A lost answer used to be tried again into a second
// copy of the version. The completion of a key's first version written in
// parts (its ETag is not the source's) loses its answer too: that key was
// taken for another writer's and skipped. So does the second of two
// delete markers in a row (versitygw keeps both): it was written again.
func TestRestoreLostWriteAnswers(t *testing.T) {
	for _, kind := range testserver.Kinds() {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			srv := testserver.Shared(t, kind)
			mc := srv.Client(t)
			bucket := srv.NewBucket(t, true)
			fillVersions(t, mc, bucket, 9)
			want := bucketVersions(t, mc, bucket)
			var mu sync.Mutex
			seen := map[string]bool{}
			n, deletes5 := 0, 0
			var armed atomic.Bool
			proxy := coffertest.NewFaultProxy(t, srv.Endpoint, coffertest.FaultOptions{Rate: 1, Faults: []coffertest.Fault{coffertest.ResetResponse},
				Match: func(r *http.Request) bool {
					if !armed.Load() || r.Method == http.MethodGet || r.Method == http.MethodHead || strings.Count(r.URL.Path, "/") < 2 ||
						strings.Contains(r.URL.Path, s3source.ProbePrefix) {
						return false // reads, bucket requests and the probe of conditional writes
					}
					q := r.URL.Query()
					what := r.Method
					for _, p := range []string{"tagging", "uploads", "partNumber", "uploadId"} {
						if q.Has(p) {
							what += " " + p
							break
						}
					}
					mu.Lock()
					defer mu.Unlock()
					if what == "POST uploadId" && strings.HasSuffix(r.URL.Path, "/key-008") && !seen["first multipart"] {
						seen["first multipart"] = true
						return true
					}
					if what == "DELETE" && strings.HasSuffix(r.URL.Path, "/key-005") {
						if deletes5++; deletes5 == 2 {
							seen["second marker"] = true
							return true
						}
					}
					n++
					if !seen[what] || n%4 == 0 {
						seen[what] = true
						return true
					}
					return false
				}})
			e := startBehind(t, srv, proxy, func(c *service.Config) {
				src := c.Sources[service.DefaultConnection]
				src.PartSize = 5 << 20
				c.Sources[service.DefaultConnection] = src
			})
			if _, err := e.Client.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("lost")}); err != nil {
				t.Fatal(err)
			}
			bj, err := e.Client.StartBackupJob(ctx, &backup.StartBackupJobInput{BackupVaultName: aws.String("lost"),
				ResourceArn: aws.String("arn:aws:s3:::" + bucket), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x")})
			if err != nil {
				t.Fatal(err)
			}
			if j := waitBackupFor(t, e.Client, aws.ToString(bj.BackupJobId), 60*time.Second); j.State != types.BackupJobStateCompleted {
				t.Fatalf("backup: %s %q", j.State, aws.ToString(j.StatusMessage))
			}
			armed.Store(true)
			dest, rj := restoreAll(t, e.Client, aws.ToString(bj.RecoveryPointArn))
			mu.Lock()
			t.Logf("restore: %s %q; answers lost: %v; proxy: %s", rj.Status, aws.ToString(rj.StatusMessage), seen, proxy)
			mu.Unlock()
			if rj.Status != types.RestoreJobStatusCompleted {
				t.Fatalf("restore: %s %q", rj.Status, aws.ToString(rj.StatusMessage))
			}
			compareVersions(t, want, bucketVersions(t, mc, dest), func(string) bool { return false })
		})
	}
}
