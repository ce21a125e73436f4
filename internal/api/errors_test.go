package api_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/smithy-go"

	"github.com/cofferbackup/coffer/internal/api"
	"github.com/cofferbackup/coffer/internal/auth"
	"github.com/cofferbackup/coffer/internal/coffertest"
)

func TestClockSkewCorrectedBySDK(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{})
	// The server's clock is 20 minutes ahead of the client's, beyond the
	// 15-minute window.
	ahead := func() time.Time { return time.Now().Add(20 * time.Minute) }
	endpoint := "http://" + limitedServer(t, e, api.Limits{}, ahead)
	// Without retries the SDK sees the skew code.
	_, err := coffertest.NewClient(endpoint, e.Creds).ListBackupVaults(ctx, &backup.ListBackupVaultsInput{})
	if apiCode(err) != "RequestTimeTooSkewed" {
		t.Fatalf("skewed request: got %v, want RequestTimeTooSkewed", err)
	}
	// With its default retries it corrects its clock from the answer's
	// Date header and succeeds.
	c := backup.New(backup.Options{
		BaseEndpoint: aws.String(endpoint), Region: "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: e.Creds.AccessKeyID, SecretAccessKey: e.Creds.SecretAccessKey}, nil
		}),
	})
	if _, err := c.ListBackupVaults(ctx, &backup.ListBackupVaultsInput{}); err != nil {
		t.Fatalf("the SDK did not correct its clock skew: %v", err)
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestInternalErrorAnswersRequestID(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{})
	var logs syncBuffer
	h := api.New(e.Service, &auth.Verifier{Creds: e.Creds}, "", slog.New(slog.NewTextHandler(&logs, nil)))
	srv := h.HTTPServer()
	addr := serveWith(t, srv, 0)
	// The vault store cannot create a vault directory: a 5xx whose error
	// names the data directory.
	vaults := filepath.Join(e.DataDir, "vaults")
	if err := os.RemoveAll(vaults); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(vaults, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := coffertest.NewClient("http://"+addr, e.Creds).CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("broken")})
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() < 500 || apiCode(err) != "ServiceUnavailableException" {
		t.Fatalf("CreateBackupVault on a broken data dir: %v, want a 5xx ServiceUnavailableException", err)
	}
	var ae smithy.APIError
	errors.As(err, &ae)
	id, msg := re.ServiceRequestID(), ae.ErrorMessage()
	if id == "" || !strings.Contains(msg, id) {
		t.Errorf("message %q does not carry the request id %q", msg, id)
	}
	if strings.Contains(msg, e.DataDir) {
		t.Errorf("message %q names the data directory %s", msg, e.DataDir)
	}
	var line string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "request_id="+id) {
			line = l
		}
	}
	if !strings.Contains(line, "level=ERROR") || !strings.Contains(line, e.DataDir) {
		t.Errorf("no error logged with the detail under request id %s; log:\n%s", id, logs.String())
	}
}
