package api_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/cofferbackup/coffer/internal/coffertest"
)

// captured is a request exactly as the SDK sent it.
type captured struct {
	method, url string
	header      http.Header
	body        []byte
}

// recorder is an SDK HTTP client that keeps a copy of every request.
type recorder struct {
	mu   sync.Mutex
	reqs []captured
}

func (rc *recorder) Do(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, captured{r.Method, r.URL.String(), r.Header.Clone(), body})
	rc.mu.Unlock()
	return http.DefaultClient.Do(r)
}

// last returns the last request sent.
func (rc *recorder) last() captured {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.reqs[len(rc.reqs)-1]
}

// send sends c again, byte for byte, and returns the answer's status and
// error type.
func (c captured) send(t *testing.T) (int, string) {
	t.Helper()
	req, err := http.NewRequest(c.method, c.url, bytes.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = c.header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("X-Amzn-Errortype")
}

// TestReplayedRequestsRefused: a signed mutating request captured from the
// SDK and sent again within the skew window is refused
// (InvalidSignatureException), also after a restart; a replayed GET is
// harmless and answered.
func TestReplayedRequestsRefused(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{})
	rec := &recorder{}
	c := backup.NewFromConfig(aws.Config{}, func(o *backup.Options) {
		*o = e.Client.Options()
		o.HTTPClient = rec
	})
	if _, err := c.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("rv")}); err != nil {
		t.Fatal(err)
	}
	bucket := e.S3.NewBucket(t, true)
	coffertest.FillBucket(t, e.S3.Client(t), bucket, "r/", 1, 10)

	job, err := c.StartBackupJob(ctx, &backup.StartBackupJobInput{BackupVaultName: aws.String("rv"), ResourceArn: aws.String("arn:aws:s3:::" + bucket),
		IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x")})
	if err != nil {
		t.Fatal(err)
	}
	startJob := rec.last()
	if j := e.WaitBackup(t, aws.ToString(job.BackupJobId)); j.State != types.BackupJobStateCompleted {
		t.Fatalf("backup: %s", j.State)
	}
	rpARN := job.RecoveryPointArn
	if _, err := c.TagResource(ctx, &backup.TagResourceInput{ResourceArn: rpARN, Tags: map[string]string{"k": "v"}}); err != nil {
		t.Fatal(err)
	}
	tagRP := rec.last()
	if _, err := c.UntagResource(ctx, &backup.UntagResourceInput{ResourceArn: rpARN, TagKeyList: []string{"k"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListBackupVaults(ctx, &backup.ListBackupVaultsInput{}); err != nil {
		t.Fatal(err)
	}
	listVaults := rec.last()

	replays := []struct {
		name string
		req  captured
		want int
	}{
		{"StartBackupJob", startJob, http.StatusForbidden},
		{"TagResource", tagRP, http.StatusForbidden},
		{"ListBackupVaults (GET)", listVaults, http.StatusOK},
	}
	for _, tt := range replays {
		if status, code := tt.req.send(t); status != tt.want || (tt.want != http.StatusOK && code != "InvalidSignatureException") {
			t.Errorf("replayed %s: %d %s, want %d", tt.name, status, code, tt.want)
		}
	}
	if out, err := c.ListTags(ctx, &backup.ListTagsInput{ResourceArn: rpARN}); err != nil || len(out.Tags) != 0 {
		t.Errorf("tags after the replayed TagResource: %v (%v), want none", out.Tags, err)
	}
	// (The SDK filled in an IdempotencyToken, so even run, the replay
	// would have answered the first job; a client without one would not.)
	if out, err := c.ListBackupJobs(ctx, &backup.ListBackupJobsInput{}); err != nil || len(out.BackupJobs) != 1 {
		t.Errorf("backup jobs after the replayed StartBackupJob: %d (%v), want 1", len(out.BackupJobs), err)
	}

	// DeleteRecoveryPoint: the replay is refused as a replay, before it
	// could be told the recovery point is gone.
	if _, err := c.DeleteRecoveryPoint(ctx, &backup.DeleteRecoveryPointInput{BackupVaultName: aws.String("rv"), RecoveryPointArn: rpARN}); err != nil {
		t.Fatal(err)
	}
	deleteRP := rec.last()
	if status, code := deleteRP.send(t); status != http.StatusForbidden || code != "InvalidSignatureException" {
		t.Errorf("replayed DeleteRecoveryPoint: %d %s", status, code)
	}

	// The record of signatures outlives a restart.
	e.Restart(t)
	if status, code := startJob.send(t); status != http.StatusForbidden || code != "InvalidSignatureException" {
		t.Errorf("StartBackupJob replayed after a restart: %d %s", status, code)
	}
}

// TestSDKRetryIsNotAReplay: the SDK signs every attempt anew, so a retry
// after a lost answer (the first attempt reached coffer, its answer did
// not reach the client) passes the replay check; IdempotencyToken then
// makes StartBackupJob's retry answer the job the first attempt created.
func TestSDKRetryIsNotAReplay(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{})
	if _, err := e.Client.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("retry")}); err != nil {
		t.Fatal(err)
	}
	bucket := e.S3.NewBucket(t, true)
	var mu sync.Mutex
	attempts := map[string][]string{} // "METHOD path" -> Authorization of each attempt
	// The proxy passes each request on to coffer; of the first attempt of
	// each mutating call it throws coffer's answer away and answers 503.
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		out, err := http.NewRequestWithContext(r.Context(), r.Method, e.Endpoint+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		out.Header, out.Host = r.Header.Clone(), r.Host // the Host was signed
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		key := r.Method + " " + r.URL.Path
		mu.Lock()
		attempts[key] = append(attempts[key], r.Header.Get("Authorization"))
		lose := r.Method != http.MethodGet && len(attempts[key]) == 1
		mu.Unlock()
		if lose {
			w.Header().Set("X-Amzn-Errortype", "ServiceUnavailableException")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"__type":"ServiceUnavailableException","Message":"the answer was lost"}`))
			return
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(proxy.Close)
	c := backup.NewFromConfig(aws.Config{}, func(o *backup.Options) {
		*o = coffertest.NewClient(proxy.URL, e.Creds).Options()
		o.RetryMaxAttempts = 3
	})
	job, err := c.StartBackupJob(ctx, &backup.StartBackupJobInput{BackupVaultName: aws.String("retry"), ResourceArn: aws.String("arn:aws:s3:::" + bucket),
		IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x"), IdempotencyToken: aws.String("retry-1")})
	if err != nil {
		t.Fatalf("StartBackupJob through a lost answer: %v", err)
	}
	e.WaitBackup(t, aws.ToString(job.BackupJobId))
	vault, err := c.DescribeBackupVault(ctx, &backup.DescribeBackupVaultInput{BackupVaultName: aws.String("retry")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.TagResource(ctx, &backup.TagResourceInput{ResourceArn: vault.BackupVaultArn, Tags: map[string]string{"k": "v"}}); err != nil {
		t.Fatalf("TagResource through a lost answer: %v", err)
	}
	mu.Lock()
	for key, auths := range attempts {
		if len(auths) == 2 && auths[0] == auths[1] {
			t.Errorf("%s: the SDK's retry carried the same signature", key)
		}
	}
	if n := len(attempts["PUT /backup-jobs"]); n != 2 {
		t.Errorf("StartBackupJob: %d attempts, want 2", n)
	}
	mu.Unlock()
	if out, err := e.Client.ListBackupJobs(ctx, &backup.ListBackupJobsInput{}); err != nil || len(out.BackupJobs) != 1 {
		t.Errorf("backup jobs: %d (%v), want the one the first attempt created", len(out.BackupJobs), err)
	}
	if tags := listTags(t, e.Client, aws.ToString(vault.BackupVaultArn)); tags["k"] != "v" {
		t.Errorf("tags: %v", tags)
	}
}
