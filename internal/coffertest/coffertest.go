package coffertest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/backup"

	"github.com/cofferbackup/coffer/internal/api"
	"github.com/cofferbackup/coffer/internal/auth"
	"github.com/cofferbackup/coffer/internal/clock"
	"github.com/cofferbackup/coffer/internal/s3events"
	"github.com/cofferbackup/coffer/internal/s3source"
	"github.com/cofferbackup/coffer/internal/service"
	"github.com/cofferbackup/coffer/internal/testserver"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// Options tunes Start. The zero value uses a shared MinIO and the wall clock.
type Options struct {
	S3Kind  string             // testserver kind; default "minio"
	S3      *testserver.Server // use this server instead of a shared one
	DataDir string             // default t.TempDir()
	Clock   clock.Clock        // default the wall clock
	// Parallelism per job (default 8) and jobs at once (default 2).
	Parallelism, MaxJobs int
	// Database is service.Config.Database: "" for SQLite in DataDir, or a
	// PostgreSQL URL (see Database).
	Database string
	// TestHooks is passed to the service (service.Config.TestHooks).
	TestHooks *service.TestHooks
	// Configure, if set, adjusts the service's Config last (liveness
	// timings, say).
	Configure func(*service.Config)
	// MaintenanceInterval is service.Config.MaintenanceInterval; 0 (the
	// default here) disables the periodic maintenance of every vault.
	MaintenanceInterval time.Duration
}

// Env is a running coffer.
type Env struct {
	Endpoint string
	Creds    auth.Credentials
	S3       *testserver.Server
	Service  *service.Service
	Client   *backup.Client
	DataDir  string
	// EventsToken is the bearer token of POST /events/s3 (events.token
	// in DataDir).
	EventsToken string

	opts Options
	srv  *httptest.Server
	key  []byte
}

// Start runs coffer until the test ends.
func Start(t testing.TB, opts Options) *Env {
	t.Helper()
	if opts.S3 == nil {
		kind := opts.S3Kind
		if kind == "" {
			kind = testserver.MinIO
		}
		opts.S3 = testserver.Shared(t, kind)
	}
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Parallelism == 0 {
		opts.Parallelism = 8
	}
	e := &Env{S3: opts.S3, DataDir: opts.DataDir, opts: opts}
	var err error
	if e.key, _, _, err = service.LoadOrCreateMasterKey(opts.DataDir, ""); err != nil {
		t.Fatalf("master key: %v", err)
	}
	if e.Creds, _, _, err = auth.LoadOrCreateRoot(opts.DataDir, auth.Credentials{}); err != nil {
		t.Fatalf("root credentials: %v", err)
	}
	if e.EventsToken, _, _, err = s3events.LoadOrCreateToken(opts.DataDir, ""); err != nil {
		t.Fatalf("events token: %v", err)
	}
	e.open(t)
	t.Cleanup(func() { e.Stop(t) })
	return e
}

func (e *Env) open(t testing.TB) {
	t.Helper()
	cfg := service.Config{
		DataDir: e.DataDir, MasterKey: e.key, Clock: e.opts.Clock, Database: e.opts.Database,
		Sources: map[string]s3source.Config{service.DefaultConnection: {
			Endpoint: e.S3.Endpoint, AccessKey: e.S3.AccessKey, SecretKey: e.S3.SecretKey, Region: e.S3.Region}},
		Parallelism: e.opts.Parallelism, MaxConcurrentJobs: e.opts.MaxJobs, JanitorInterval: -1, MaintenanceInterval: e.maintenanceInterval(),
		TestHooks: e.opts.TestHooks,
	}
	if e.opts.Configure != nil {
		e.opts.Configure(&cfg)
	}
	svc, err := service.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open service: %v", err)
	}
	e.Service = svc
	// Signatures are checked against the wall clock: SDK clients sign with
	// real time even when the service runs on a fake clock.
	h := api.New(svc, &auth.Verifier{Creds: e.Creds}, "", nil).WithEventsToken(e.EventsToken)
	if e.srv == nil {
		e.srv = httptest.NewServer(h)
		e.Endpoint = e.srv.URL
	} else {
		e.srv.Config.Handler = h
	}
	e.Client = NewClient(e.Endpoint, e.Creds)
}

func (e *Env) maintenanceInterval() time.Duration {
	if e.opts.MaintenanceInterval == 0 {
		return -1
	}
	return e.opts.MaintenanceInterval
}

// Stop closes the service (as a shutdown would); Restart opens it again on
// the same data directory and endpoint.
func (e *Env) Stop(t testing.TB) {
	t.Helper()
	if e.Service != nil {
		if err := e.Service.Close(context.Background()); err != nil {
			t.Errorf("close service: %v", err)
		}
		e.Service = nil
	}
}

// Database is the catalog database the service runs on (Options.Database).
func (e *Env) Database() string { return e.opts.Database }

// Restart stops and reopens the service on the same data directory.
func (e *Env) Restart(t testing.TB) {
	t.Helper()
	e.Stop(t)
	e.open(t)
}

// NewClient returns an AWS Backup client for a coffer endpoint.
func NewClient(endpoint string, creds auth.Credentials) *backup.Client {
	return backup.New(backup.Options{
		BaseEndpoint: aws.String(endpoint),
		Region:       "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, Source: "coffertest"}, nil
		}),
		RetryMaxAttempts: 1,
	})
}

// WaitBackup polls a backup job until it reaches a final state.
func (e *Env) WaitBackup(t testing.TB, id string) *backup.DescribeBackupJobOutput {
	t.Helper()
	return WaitBackupJob(t, e.Client, id)
}

// WaitRestore polls a restore job until it reaches a final state.
func (e *Env) WaitRestore(t testing.TB, id string) *backup.DescribeRestoreJobOutput {
	t.Helper()
	return WaitRestoreJob(t, e.Client, id)
}

// Sign signs a hand-made request for the coffer API with SigV4. Like the
// SDKs it signs a fresh Amz-Sdk-Invocation-Id, so that two identical
// requests made in the same second are not taken for a replay.
func Sign(req *http.Request, creds auth.Credentials, body []byte) error {
	req.Header.Set("Amz-Sdk-Invocation-Id", vocab.NewID())
	sum := sha256.Sum256(body)
	return v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey},
		req, hex.EncodeToString(sum[:]), "backup", "us-east-1", time.Now())
}
