package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

var fuzzNow = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// fuzzCauses are the specific causes a failure wraps (exactly one).
var fuzzCauses = []error{ErrMissingAuth, ErrMalformedAuth, ErrUnknownKey, ErrSignatureMismatch, ErrRequestExpired, ErrWrongService}

// signedSeed signs a request as the SDK does and returns its parts.
func signedSeed(f *testing.F, method, path, query, body string) (authz, date, signed string) {
	f.Helper()
	req, err := http.NewRequest(method, "http://coffer.test"+path+"?"+query, strings.NewReader(body))
	if err != nil {
		f.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: testCreds.AccessKeyID, SecretAccessKey: testCreds.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), ServiceName, "eu-west-3", fuzzNow); err != nil {
		f.Fatal(err)
	}
	return req.Header.Get("Authorization"), req.Header.Get(headerAmzDate), req.Header.Get(headerSHA256)
}

// FuzzVerify feeds Verify arbitrary Authorization headers, X-Amz-Date
// values, query strings (presigned-looking ones included), paths and
// bodies. It never panics; every refusal wraps ErrAccessDenied and
// exactly one specific cause (so the API answers a 4xx with a code); and
// it accepts only what the SDK signer itself signs the same way.
func FuzzVerify(f *testing.F) {
	v := &Verifier{Creds: testCreds, Now: func() time.Time { return fuzzNow }}
	for _, s := range []struct{ method, path, query, body string }{
		{"GET", "/backup-vaults", "maxResults=5", ""},
		{"PUT", "/backup-jobs", "", `{"BackupVaultName":"v","ResourceArn":"arn:aws:s3:::b"}`},
		{"GET", "/tags/arn%3Aaws%3Abackup%3Aus-east-1%3A000000000000%3Abackup-vault%3Av", "", ""},
		{"GET", "/backup-jobs", "byState=RUNNING&byState=CREATED&nextToken=a%2Fb", ""},
	} {
		authz, date, _ := signedSeed(f, s.method, s.path, s.query, s.body)
		f.Add(s.method, s.path, s.query, authz, date, s.body)
		// The genuine seeds pass, so the fuzzer mutates accepted requests.
		r, _ := fuzzRequest(s.method, s.path, s.query, authz, date, s.body)
		if err := v.Verify(r, []byte(s.body)); err != nil {
			f.Fatalf("seed %s %s refused: %v", s.method, s.path, err)
		}
	}
	authz, date, _ := signedSeed(f, "GET", "/backup-vaults", "", "")
	for _, bad := range []struct{ authz, date, query string }{
		{"", date, ""},
		{"AWS4-HMAC-SHA256", date, ""},
		{"AWS4-HMAC-SHA256 Credential=, SignedHeaders=, Signature=", date, ""},
		{"AWS4-HMAC-SHA256 Credential=CFTESTACCESSKEY00001/20261201/x/backup/aws4_request, SignedHeaders=host, Signature=00", date, ""},
		{"AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request,SignedHeaders=host;x-amz-date;;,Signature=zz,,", date, ""},
		{"AWS4-HMAC-SHA256 Credential=" + testCreds.AccessKeyID + "/20261201/r/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=ab", date, ""},
		{"AWS4-HMAC-SHA256 Credential=\x00/\xff/r/backup/aws4_request, SignedHeaders=host;x-amz-date;content-length, Signature=ab", "\xff", ""},
		{authz, "20261201T100000", ""},
		{authz, "99991231T235959Z", ""},
		{authz, date, "%zz"},
		{authz, date, "a=1;b=2"},
		{"", "", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + testCreds.AccessKeyID + "%2F20261201%2Fus-east-1%2Fbackup%2Faws4_request&X-Amz-Date=" + date + "&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00"},
		{authz, date, "X-Amz-Signature="},
	} {
		f.Add("GET", "/backup-vaults", bad.query, bad.authz, bad.date, "")
	}
	f.Fuzz(func(t *testing.T, method, path, query, authz, date, body string) {
		r, ok := fuzzRequest(method, path, query, authz, date, body)
		if !ok {
			return
		}
		err := v.Verify(r, []byte(body))
		if err == nil {
			checkGenuine(t, r, authz, body)
			return
		}
		if !errors.Is(err, ErrAccessDenied) {
			t.Fatalf("refusal %v does not wrap ErrAccessDenied", err)
		}
		n := 0
		for _, c := range fuzzCauses {
			if errors.Is(err, c) {
				n++
			}
		}
		if n != 1 || ErrorCode(err) == "" {
			t.Fatalf("refusal %v wraps %d specific causes (code %q)", err, n, ErrorCode(err))
		}
	})
}

// fuzzRequest builds the request a server would see; false when net/http
// would never hand such a request to a handler.
func fuzzRequest(method, path, query, authz, date, body string) (*http.Request, bool) {
	if !validMethod(method) || !strings.HasPrefix(path, "/") {
		return nil, false
	}
	u, err := url.ParseRequestURI(path)
	if err != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, false
	}
	u.RawQuery = query
	r := &http.Request{Method: method, URL: u, Host: "coffer.test", Header: http.Header{}, ContentLength: int64(len(body))}
	r = r.WithContext(context.Background())
	r.Header.Set("Content-Type", "application/json")
	r.Header["Authorization"] = []string{authz}
	r.Header[headerAmzDate] = []string{date}
	return r, true
}

// checkGenuine re-signs an accepted request with the SDK signer and
// requires the very signature the request carried.
func checkGenuine(t *testing.T, r *http.Request, authz, body string) {
	t.Helper()
	ah, err := parseAuthorization(authz)
	if err != nil {
		t.Fatalf("accepted an unparsable Authorization %q", authz)
	}
	if r.URL.Query().Has("X-Amz-Signature") {
		t.Fatalf("accepted a presigned query %q", r.URL.RawQuery)
	}
	req, err := rebuildRequest(r, ah)
	if err != nil {
		t.Fatalf("accepted a request that cannot be rebuilt: %v", err)
	}
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: testCreds.AccessKeyID, SecretAccessKey: testCreds.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), ServiceName, ah.region, fuzzNow); err != nil {
		t.Fatal(err)
	}
	if got := req.Header.Get("Authorization"); !strings.Contains(got, "Signature="+ah.signature) {
		t.Fatalf("accepted signature %q; the signer makes %q", ah.signature, got)
	}
}

// validMethod reports whether m is an HTTP token, as net/http requires.
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range []byte(m) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// FuzzParseAuthorization: the header parser never panics and a header it
// accepts has every part the verifier relies on.
func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{
		"AWS4-HMAC-SHA256 Credential=AK/20261201/us-east-1/backup/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc",
		"AWS4-HMAC-SHA256 Credential=AK/20261201/us-east-1/backup/aws4_request,SignedHeaders=host,Signature=abc",
		"AWS4-HMAC-SHA256 Credential=AK//us-east-1/backup/aws4_request, SignedHeaders=host, Signature=abc",
		"AWS4-HMAC-SHA256 Credential==, SignedHeaders==, Signature==",
		"AWS4-HMAC-SHA256 ,,,", "  AWS4-HMAC-SHA256   Credential=a/b/c/d/aws4_request  ", "Basic dXNlcjpwYXNz", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		ah, err := parseAuthorization(raw)
		if err != nil {
			if !errors.Is(err, ErrMalformedAuth) {
				t.Fatalf("%q: %v does not wrap ErrMalformedAuth", raw, err)
			}
			return
		}
		if ah.accessKey == "" || ah.region == "" || ah.signedHeaders == "" || ah.signature == "" {
			t.Fatalf("%q accepted with missing parts: %+v", raw, ah)
		}
	})
}
