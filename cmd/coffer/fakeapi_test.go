package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/auth"
)

// fakeAPI is a tiny stand-in for the coffer API that checks signatures
// and serves canned answers, to test the commands' request and output
// handling without a real server.
type fakeAPI struct {
	t        *testing.T
	mu       sync.Mutex
	states   []string // successive DescribeBackupJob states
	polls    int
	bodies   map[string]string // last body per "METHOD path"
	queries  []string          // ListBackupJobs queries seen
	verifier *auth.Verifier
}

var fakeCreds = auth.Credentials{AccessKeyID: "CFFAKEKEY00000000000", SecretAccessKey: "fakesecretfakesecretfakesecretfakesecret"}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := f.verifier.Verify(r, body); err != nil {
		f.t.Errorf("request %s %s not verified: %v", r.Method, r.URL, err)
		apiErr(w, 403, auth.ErrorCode(err), err.Error())
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bodies[r.Method+" "+r.URL.Path] = string(body)
	w.Header().Set("Content-Type", "application/json")
	switch r.Method + " " + r.URL.Path {
	case "PUT /backup-jobs":
		io.WriteString(w, `{"BackupJobId":"job-1","CreationDate":1704164645}`)
	case "GET /backup-jobs/job-1":
		st := f.states[min(f.polls, len(f.states)-1)]
		f.polls++
		pct := map[string]string{"RUNNING": "50.0", "FAILED": "50.0"}[st]
		json.NewEncoder(w).Encode(map[string]any{"BackupJobId": "job-1", "State": st, "PercentDone": pct,
			"BackupSizeInBytes": 2048, "BytesTransferred": 1024, "StatusMessage": "msg-" + st})
	case "GET /backup-jobs":
		f.queries = append(f.queries, r.URL.RawQuery)
		if r.URL.Query().Get("nextToken") == "" {
			io.WriteString(w, `{"BackupJobs":[{"BackupJobId":"a","State":"COMPLETED"}],"NextToken":"p2"}`)
		} else {
			io.WriteString(w, `{"BackupJobs":[{"BackupJobId":"b","State":"RUNNING"}]}`)
		}
	case "PUT /restore-jobs":
		io.WriteString(w, `{"RestoreJobId":"r-1"}`)
	case "GET /restore-jobs/r-1":
		io.WriteString(w, `{"RestoreJobId":"r-1","Status":"COMPLETED","PercentDone":"100","CreatedResourceArn":"arn:aws:s3:::dst"}`)
	default:
		apiErr(w, 404, "ResourceNotFoundException", "vault not found")
	}
}

func apiErr(w http.ResponseWriter, code int, typ, msg string) {
	w.Header().Set("X-Amzn-Errortype", typ)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"Message": msg})
}

func startFake(t *testing.T, states ...string) (*fakeAPI, []string) {
	t.Helper()
	f := &fakeAPI{t: t, states: states, bodies: map[string]string{}, verifier: &auth.Verifier{Creds: fakeCreds}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	old := pollInterval
	pollInterval = time.Millisecond
	t.Cleanup(func() { pollInterval = old })
	return f, []string{"--endpoint", srv.URL, "--access-key-id", fakeCreds.AccessKeyID, "--secret-access-key", fakeCreds.SecretAccessKey, "--data-dir", t.TempDir()}
}

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut strings.Builder
	code = runMain(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestWaitBackupCompleted(t *testing.T) {
	f, common := startFake(t, "CREATED", "RUNNING", "RUNNING", "COMPLETED")
	code, out, errOut := run(t, append([]string{"backup", "start", "--vault", "v", "--bucket", "b", "--no-tags", "--wait", "--json"}, common...)...)
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil || got["State"] != "COMPLETED" {
		t.Fatalf("stdout is not the final job as JSON: %v\n%s", err, out)
	}
	if !strings.Contains(errOut, "backup job job-1: RUNNING 50.0%") || !strings.Contains(errOut, "COMPLETED") {
		t.Errorf("progress lines missing from stderr:\n%s", errOut)
	}
	if strings.Count(errOut, "RUNNING") != 1 {
		t.Errorf("unchanged status printed more than once:\n%s", errOut)
	}
	var start map[string]any
	if err := json.Unmarshal([]byte(f.bodies["PUT /backup-jobs"]), &start); err != nil {
		t.Fatal(err)
	}
	if start["ResourceArn"] != "arn:aws:s3:::b" || start["IamRoleArn"] != defaultIAMRoleARN ||
		!equalJSON(start["BackupOptions"], map[string]any{"BackupObjectTags": "disabled"}) {
		t.Errorf("StartBackupJob body = %s", f.bodies["PUT /backup-jobs"])
	}
}

func TestWaitBackupFailed(t *testing.T) {
	_, common := startFake(t, "RUNNING", "FAILED")
	code, out, errOut := run(t, append([]string{"backup", "start", "--vault", "v", "--bucket", "b", "--wait"}, common...)...)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.Contains(errOut, "ended FAILED: msg-FAILED") {
		t.Errorf("stderr lacks the status message: %s", errOut)
	}
	if !strings.Contains(out, "State:") || !strings.Contains(out, "FAILED") {
		t.Errorf("final job not printed:\n%s", out)
	}
}

func TestBackupListPaginates(t *testing.T) {
	f, common := startFake(t, "COMPLETED")
	code, out, errOut := run(t, append([]string{"backup", "list", "--state", "COMPLETED", "--resource-arn", "arn:aws:s3:::b",
		"--created-after", "2024-01-02T03:04:05Z", "--json"}, common...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got backupListJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got.BackupJobs) != 2 || got.BackupJobs[1].BackupJobId != "b" {
		t.Fatalf("list = %s (%v)", out, err)
	}
	if len(f.queries) != 2 || !strings.Contains(f.queries[0], "createdAfter=2024-01-02T03%3A04%3A05Z") ||
		!strings.Contains(f.queries[0], "resourceArn=arn%3Aaws%3As3%3A%3A%3Ab") || !strings.Contains(f.queries[1], "nextToken=p2") {
		t.Errorf("queries = %q", f.queries)
	}
	code, out, _ = run(t, append([]string{"backup", "list"}, common...)...)
	if code != 0 || !strings.Contains(out, "JOB ID") || !strings.Contains(out, "RUNNING") {
		t.Errorf("table output (exit %d):\n%s", code, out)
	}
}

type backupListJSON struct {
	BackupJobs []struct{ BackupJobId string }
}

func TestAPIErrorPrinted(t *testing.T) {
	_, common := startFake(t)
	code, _, errOut := run(t, append([]string{"vault", "describe", "nope"}, common...)...)
	if code != 1 || !strings.Contains(errOut, "describe vault nope: ResourceNotFoundException: vault not found") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

func TestRestoreStartWait(t *testing.T) {
	f, common := startFake(t)
	code, out, errOut := run(t, append([]string{"restore", "start", "--recovery-point", "arn:rp", "--dest-bucket", "dst",
		"--new-bucket", "--item", "s3://src/p/", "--versions", "all", "--wait"}, common...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "restore job r-1: COMPLETED") || !strings.Contains(out, "arn:aws:s3:::dst") {
		t.Errorf("output:\n%s", out)
	}
	var body struct {
		ResourceType string
		Metadata     map[string]string
	}
	if err := json.Unmarshal([]byte(f.bodies["PUT /restore-jobs"]), &body); err != nil {
		t.Fatal(err)
	}
	if body.ResourceType != "S3" || body.Metadata["ItemsToRestore"] != `["s3://src/p/"]` || body.Metadata["NewBucket"] != "true" ||
		body.Metadata["RestoreLatestVersionsUpTo"] != "all" {
		t.Errorf("StartRestoreJob body = %s", f.bodies["PUT /restore-jobs"])
	}
}
