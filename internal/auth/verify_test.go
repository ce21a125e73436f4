package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
)

var testCreds = Credentials{AccessKeyID: "CFTESTACCESSKEY00001", SecretAccessKey: "secretsecretsecretsecretsecretsecret0000"}

// recorder is an httptest server whose handler verifies every request and
// remembers the last verification result.
type recorder struct {
	srv      *httptest.Server
	mu       sync.Mutex
	lastErr  error
	preErr   error // Precheck's result for the last request
	requests int
}

func newRecorder(t *testing.T, v *Verifier) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		perr := v.Precheck(r)
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read body: %v", err)
		}
		verr := v.Verify(r, body)
		rec.mu.Lock()
		rec.lastErr, rec.preErr, rec.requests = verr, perr, rec.requests+1
		rec.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if verr != nil {
			w.Header().Set("X-Amzn-Errortype", ErrorCode(verr))
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"message":"denied"}`))
			return
		}
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

func (rec *recorder) result(t *testing.T) error {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.requests != 1 {
		t.Fatalf("server saw %d requests, want 1", rec.requests)
	}
	return rec.lastErr
}

// precheck returns Precheck's result for the request result saw.
func (rec *recorder) precheck() error {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.preErr
}

// tamperTransport lets a test change a request after the SDK signed it.
type tamperTransport struct{ tamper func(*http.Request) }

func (tt tamperTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if tt.tamper != nil {
		tt.tamper(r)
	}
	return http.DefaultTransport.RoundTrip(r)
}

func newClient(endpoint string, creds Credentials, region string, tamper func(*http.Request)) *backup.Client {
	return backup.New(backup.Options{
		BaseEndpoint: aws.String(endpoint),
		Region:       region,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey}, nil
		}),
		HTTPClient: &http.Client{Transport: tamperTransport{tamper: tamper}},
		Retryer:    aws.NopRetryer{},
	})
}

const rpARN = "arn:aws:backup:us-east-1:123456789012:recovery-point:continuous:bucket1-abcd1234"

// operations are the SDK calls each case is run against.
var operations = map[string]func(context.Context, *backup.Client) error{
	"CreateBackupVault": func(ctx context.Context, c *backup.Client) error {
		_, err := c.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{
			BackupVaultName: aws.String("my-vault"),
			BackupVaultTags: map[string]string{"team": "storage", "env": "prod env"},
		})
		return err
	},
	"DescribeRecoveryPoint": func(ctx context.Context, c *backup.Client) error {
		_, err := c.DescribeRecoveryPoint(ctx, &backup.DescribeRecoveryPointInput{
			BackupVaultName: aws.String("my-vault"), RecoveryPointArn: aws.String(rpARN),
		})
		return err
	},
	"ListBackupJobs": func(ctx context.Context, c *backup.Client) error {
		after := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
		_, err := c.ListBackupJobs(ctx, &backup.ListBackupJobsInput{
			ByBackupVaultName: aws.String("my-vault"),
			ByResourceArn:     aws.String("arn:aws:s3:::bucket1"),
			ByState:           types.BackupJobStateCompleted,
			ByCreatedAfter:    aws.Time(after),
			ByCreatedBefore:   aws.Time(after.Add(time.Hour)),
			MaxResults:        aws.Int32(5),
			NextToken:         aws.String("a/b+c d=e&f"),
		})
		return err
	},
	"ListTagsOddARN": func(ctx context.Context, c *backup.Client) error {
		_, err := c.ListTags(ctx, &backup.ListTagsInput{
			ResourceArn: aws.String("arn:aws:backup:us-east-1:1:backup-vault:my vault/x+y%z~"),
		})
		return err
	},
	"StopBackupJob": func(ctx context.Context, c *backup.Client) error {
		_, err := c.StopBackupJob(ctx, &backup.StopBackupJobInput{BackupJobId: aws.String("job-1")})
		return err
	},
}

func TestVerifySDKRequests(t *testing.T) {
	for name, op := range operations {
		for _, region := range []string{"us-east-1", "eu-west-3"} {
			t.Run(name+"/"+region, func(t *testing.T) {
				rec := newRecorder(t, &Verifier{Creds: testCreds})
				c := newClient(rec.srv.URL, testCreds, region, func(r *http.Request) {
					r.Header.Set("X-Unsigned-Extra", "added after signing") // not signed: ignored
				})
				if err := op(context.Background(), c); err != nil {
					t.Fatalf("call: %v", err)
				}
				if err := rec.result(t); err != nil {
					t.Fatalf("Verify: %v", err)
				}
			})
		}
	}
}

func replaceBody(r *http.Request, old, repl string) {
	b, _ := io.ReadAll(r.Body)
	nb := strings.Replace(string(b), old, repl, 1)
	r.Body = io.NopCloser(strings.NewReader(nb))
	r.ContentLength = int64(len(nb))
}

func TestVerifyRejects(t *testing.T) {
	skewed := func() time.Time { return time.Now().Add(16 * time.Minute) }
	wrongSecret := Credentials{AccessKeyID: testCreds.AccessKeyID, SecretAccessKey: "x" + testCreds.SecretAccessKey[1:]}
	unknownKey := Credentials{AccessKeyID: "CFUNKNOWNKEY00000000", SecretAccessKey: testCreds.SecretAccessKey}
	cases := []struct {
		name   string
		op     string
		creds  Credentials
		now    func() time.Time
		tamper func(*http.Request)
		early  bool // Precheck already refuses: the headers tell
		want   error
	}{
		{name: "body", op: "CreateBackupVault", tamper: func(r *http.Request) { replaceBody(r, "storage", "storagf") }, want: ErrSignatureMismatch},
		{name: "body length", op: "CreateBackupVault", tamper: func(r *http.Request) { replaceBody(r, "storage", "storage2") }, want: ErrSignatureMismatch},
		{name: "path", op: "CreateBackupVault", tamper: func(r *http.Request) { r.URL.Path, r.URL.RawPath = "/backup-vaults/my-vaulu", "" }, want: ErrSignatureMismatch},
		{name: "path arn", op: "DescribeRecoveryPoint", tamper: func(r *http.Request) {
			r.URL.RawPath = strings.Replace(r.URL.RawPath, "bucket1", "bucket2", 1)
			r.URL.Path = strings.Replace(r.URL.Path, "bucket1", "bucket2", 1)
		}, want: ErrSignatureMismatch},
		{name: "method", op: "StopBackupJob", tamper: func(r *http.Request) { r.Method = http.MethodDelete }, want: ErrSignatureMismatch},
		{name: "query value", op: "ListBackupJobs", tamper: func(r *http.Request) {
			r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "state=COMPLETED", "state=FAILED", 1)
		}, want: ErrSignatureMismatch},
		{name: "query added", op: "ListBackupJobs", tamper: func(r *http.Request) { r.URL.RawQuery += "&resourceType=S3" }, want: ErrSignatureMismatch},
		{name: "signed header", op: "CreateBackupVault", tamper: func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }, want: ErrSignatureMismatch},
		{name: "content sha256", op: "CreateBackupVault", tamper: func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", strings.Repeat("0", 64)) }, want: ErrSignatureMismatch},
		{name: "wrong secret", op: "ListBackupJobs", creds: wrongSecret, want: ErrSignatureMismatch},
		{name: "unknown key", op: "ListBackupJobs", creds: unknownKey, early: true, want: ErrUnknownKey},
		{name: "skewed time", op: "ListBackupJobs", now: skewed, early: true, want: ErrRequestExpired},
		{name: "skewed past", op: "ListBackupJobs", now: func() time.Time { return time.Now().Add(-16 * time.Minute) }, early: true, want: ErrRequestExpired},
		{name: "missing authorization", op: "ListBackupJobs", tamper: func(r *http.Request) { r.Header.Del("Authorization") }, early: true, want: ErrMissingAuth},
		{name: "missing date", op: "ListBackupJobs", tamper: func(r *http.Request) { r.Header.Del("X-Amz-Date") }, early: true, want: ErrMalformedAuth},
		{name: "missing signed header", op: "CreateBackupVault", tamper: func(r *http.Request) { r.Header.Del("Content-Type") }, want: ErrMalformedAuth},
		{name: "date moved", op: "ListBackupJobs", tamper: func(r *http.Request) {
			d := []byte(r.Header.Get("X-Amz-Date")) // 20060102T150405Z: change the last seconds digit
			d[len(d)-2] = '0' + (d[len(d)-2]-'0'+1)%10
			r.Header.Set("X-Amz-Date", string(d))
		}, want: ErrSignatureMismatch},
		{name: "region changed", op: "ListBackupJobs", tamper: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/us-east-1/", "/us-west-2/", 1))
		}, want: ErrSignatureMismatch},
		{name: "garbage authorization", op: "ListBackupJobs", tamper: func(r *http.Request) { r.Header.Set("Authorization", "Bearer abc") }, early: true, want: ErrMalformedAuth},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder(t, &Verifier{Creds: testCreds, Now: tc.now})
			creds := testCreds
			if tc.creds.Complete() {
				creds = tc.creds
			}
			c := newClient(rec.srv.URL, creds, "us-east-1", tc.tamper)
			if err := operations[tc.op](context.Background(), c); err == nil {
				t.Errorf("client call succeeded, want an error")
			}
			err := rec.result(t)
			if !errors.Is(err, ErrAccessDenied) || !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v wrapping ErrAccessDenied", err, tc.want)
			}
			pre := rec.precheck()
			if tc.early && !errors.Is(pre, tc.want) {
				t.Errorf("Precheck = %v, want %v", pre, tc.want)
			}
			if !tc.early && pre != nil {
				t.Errorf("Precheck = %v, want nil (only the body or signature tells)", pre)
			}
		})
	}
}

// signRaw signs a hand-made request with the standalone SDK signer.
func signRaw(t *testing.T, method, target, body, service string, extra map[string]string) *http.Request {
	t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	for k, v := range extra {
		r.Header.Set(k, v)
	}
	r.ContentLength = int64(len(body))
	sum := sha256Hex([]byte(body))
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testCreds.AccessKeyID, SecretAccessKey: testCreds.SecretAccessKey},
		r, sum, service, "us-east-1", time.Now())
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return r
}

func TestVerifyRaw(t *testing.T) {
	v := &Verifier{Creds: testCreds}
	body := `{"a":1}`
	cases := []struct {
		name    string
		service string
		extra   map[string]string
		mutate  func(r *http.Request)
		body    string
		want    error // nil: must verify
	}{
		{name: "extra signed header", service: "backup", extra: map[string]string{"X-Custom": "  a   b  "}},
		{name: "content sha256 header", service: "backup", extra: map[string]string{"X-Amz-Content-Sha256": sha256Hex([]byte(body))}},
		{name: "wrong service", service: "s3", want: ErrWrongService},
		{name: "body swapped", service: "backup", body: `{"a":2}`, want: ErrSignatureMismatch},
		{name: "presigned", service: "backup", mutate: func(r *http.Request) { r.URL.RawQuery = "X-Amz-Signature=abc" }, want: ErrMalformedAuth},
		{name: "signed header value changed", service: "backup", extra: map[string]string{"X-Custom": "a"},
			mutate: func(r *http.Request) { r.Header.Set("X-Custom", "b") }, want: ErrSignatureMismatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := signRaw(t, http.MethodPost, "http://coffer.local:8080/backup-jobs/j%3A1?x=1&y=a%2Fb", body, tc.service, tc.extra)
			if tc.mutate != nil {
				tc.mutate(r)
			}
			sent := body
			if tc.body != "" {
				sent = tc.body
			}
			err := v.Verify(r, bytes.Clone([]byte(sent)))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrAccessDenied) || !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestVerifyNoCredentialsConfigured(t *testing.T) {
	r := signRaw(t, http.MethodGet, "http://h/backup-vaults", "", "backup", nil)
	if err := (&Verifier{}).Verify(r, nil); !errors.Is(err, ErrAccessDenied) {
		t.Fatalf("Verify with no credentials = %v, want ErrAccessDenied", err)
	}
}

func TestErrorCode(t *testing.T) {
	cases := map[error]string{
		deny(ErrMissingAuth, "x"):       "MissingAuthenticationTokenException",
		deny(ErrMalformedAuth, "x"):     "IncompleteSignatureException",
		deny(ErrUnknownKey, "x"):        "UnrecognizedClientException",
		deny(ErrSignatureMismatch, "x"): "InvalidSignatureException",
		deny(ErrRequestExpired, "x"):    "RequestTimeTooSkewed",
		deny(ErrWrongService, "x"):      "InvalidSignatureException",
		errors.New("other"):             "AccessDeniedException",
	}
	for err, want := range cases {
		if got := ErrorCode(err); got != want {
			t.Errorf("ErrorCode(%v) = %s, want %s", err, got, want)
		}
		status := http.StatusForbidden
		if want == "IncompleteSignatureException" {
			status = http.StatusBadRequest
		}
		if got := ErrorStatus(err); got != status {
			t.Errorf("ErrorStatus(%v) = %d, want %d", err, got, status)
		}
	}
}
