package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/backup"

	"github.com/cofferbackup/coffer/internal/auth"
)

// Environment variables read by the client commands.
const (
	envEndpoint      = "COFFER_ENDPOINT"
	envAccessKey     = "COFFER_ACCESS_KEY_ID"
	envSecretKey     = "COFFER_SECRET_ACCESS_KEY"
	envRootAccessKey = "COFFER_ROOT_ACCESS_KEY_ID"
	envRootSecretKey = "COFFER_ROOT_SECRET_ACCESS_KEY"
	envDataDir       = "COFFER_DATA_DIR"
	envRegion        = "COFFER_REGION"
)

// Defaults of the client options.
const (
	defaultEndpoint = "http://127.0.0.1:8080"
	defaultDataDir  = "coffer-data"
	defaultRegion   = "us-east-1"
	// serverInfoFile is written by `coffer server` into its data dir so that
	// clients on the same machine find the endpoint.
	serverInfoFile = "server.json"
	clientAttempts = 3
	clientTimeout  = 2 * time.Minute
)

// errUsage marks command-line mistakes.
var errUsage = errors.New("usage")

// serverInfo is the content of <data-dir>/server.json.
type serverInfo struct {
	Endpoint string `json:"endpoint"`
}

// writeServerInfo records the endpoint a server listens on in
// <dataDir>/server.json (for `coffer server`).
func writeServerInfo(dataDir, endpoint string) error {
	data, err := json.MarshalIndent(serverInfo{Endpoint: endpoint}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode server info: %w", err)
	}
	path := filepath.Join(dataDir, serverInfoFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write server info: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write server info: %w", err)
	}
	return nil
}

// readServerInfo returns the endpoint in <dataDir>/server.json, "" when the
// file does not exist.
func readServerInfo(dataDir string) (string, error) {
	path := filepath.Join(dataDir, serverInfoFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read server info: %w", err)
	}
	var si serverInfo
	if err := json.Unmarshal(data, &si); err != nil {
		return "", fmt.Errorf("parse %s: %w", path, err)
	}
	return si.Endpoint, nil
}

// globalFlags are the flags every client command accepts, as given.
type globalFlags struct {
	endpoint, accessKey, secretKey, dataDir, region string
	json                                            bool
}

// options are the resolved client settings.
type options struct {
	Endpoint, Region, DataDir string
	Creds                     auth.Credentials
	JSON                      bool
}

func addGlobalFlags(fs *flag.FlagSet) *globalFlags {
	g := &globalFlags{}
	fs.StringVar(&g.endpoint, "endpoint", "", "coffer API endpoint (env "+envEndpoint+", else <data-dir>/server.json, else "+defaultEndpoint+")")
	fs.StringVar(&g.accessKey, "access-key-id", "", "access key id (env "+envAccessKey+" or "+envRootAccessKey+", else <data-dir>/credentials.json)")
	fs.StringVar(&g.secretKey, "secret-access-key", "", "secret access key (env "+envSecretKey+" or "+envRootSecretKey+", else <data-dir>/credentials.json)")
	fs.StringVar(&g.dataDir, "data-dir", "", "server data directory to read server.json and credentials.json from (env "+envDataDir+", default ./"+defaultDataDir+")")
	fs.StringVar(&g.region, "region", "", "signing region (env "+envRegion+", default "+defaultRegion+")")
	fs.BoolVar(&g.json, "json", false, "print the API response as JSON")
	return g
}

// first returns the first non-empty value.
func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// resolveOptions applies the precedence flags > environment > files in the
// data dir > defaults. lookup reads the environment.
func resolveOptions(g globalFlags, lookup func(string) (string, bool)) (options, error) {
	env := func(k string) string { v, _ := lookup(k); return strings.TrimSpace(v) }
	o := options{JSON: g.json}
	o.DataDir = first(g.dataDir, env(envDataDir), defaultDataDir)
	o.Region = first(g.region, env(envRegion), defaultRegion)
	o.Endpoint = first(g.endpoint, env(envEndpoint))
	if o.Endpoint == "" {
		ep, err := readServerInfo(o.DataDir)
		if err != nil {
			return options{}, err
		}
		o.Endpoint = first(ep, defaultEndpoint)
	}
	ep, err := normalizeEndpoint(o.Endpoint)
	if err != nil {
		return options{}, err
	}
	o.Endpoint = ep
	o.Creds = auth.Credentials{
		AccessKeyID:     first(g.accessKey, env(envAccessKey), env(envRootAccessKey)),
		SecretAccessKey: first(g.secretKey, env(envSecretKey), env(envRootSecretKey)),
	}
	switch {
	case o.Creds.Complete():
		return o, nil
	case o.Creds.AccessKeyID != "" || o.Creds.SecretAccessKey != "":
		return options{}, errors.New("credentials: both an access key id and a secret access key are needed")
	}
	path := filepath.Join(o.DataDir, auth.CredentialsFileName)
	creds, err := auth.ReadCredentialsFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return options{}, fmt.Errorf("no credentials: pass --access-key-id and --secret-access-key, set %s and %s, or point --data-dir at the server's data directory (%s does not exist)",
			envAccessKey, envSecretKey, path)
	}
	if err != nil {
		return options{}, err
	}
	o.Creds = creds
	return o, nil
}

// normalizeEndpoint adds http:// to a bare host:port and checks the URL.
func normalizeEndpoint(ep string) (string, error) {
	if !strings.Contains(ep, "://") {
		ep = "http://" + ep
	}
	u, err := url.Parse(ep)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("invalid endpoint %q: want http(s)://host:port", ep)
	}
	return strings.TrimSuffix(ep, "/"), nil
}

// newClient builds the AWS Backup client for the resolved options.
func newClient(_ context.Context, o options) (*backup.Client, error) {
	if !o.Creds.Complete() {
		return nil, errors.New("new client: credentials are incomplete")
	}
	creds := aws.Credentials{AccessKeyID: o.Creds.AccessKeyID, SecretAccessKey: o.Creds.SecretAccessKey, Source: "coffer"}
	return backup.New(backup.Options{
		BaseEndpoint: aws.String(o.Endpoint),
		Region:       o.Region,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return creds, nil
		}),
		HTTPClient: &http.Client{Timeout: clientTimeout},
		Retryer: retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = clientAttempts
		}),
	}), nil
}

// session is what a client command works with once its flags are parsed.
type session struct {
	opts   options
	client *backup.Client
	out    io.Writer // command output (stdout)
	errOut io.Writer // diagnostics (stderr)
}

// open resolves the options from g and the process environment and builds
// the client.
func (g *globalFlags) open(ctx context.Context) (*session, error) {
	o, err := resolveOptions(*g, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	c, err := newClient(ctx, o)
	if err != nil {
		return nil, err
	}
	return &session{opts: o, client: c, out: stdoutFrom(ctx), errOut: stderrFrom(ctx)}, nil
}

// emit prints v as JSON with --json, else calls human.
func (s *session) emit(v any, human func(w io.Writer) error) error {
	if s.opts.JSON {
		return printJSON(s.out, v)
	}
	return human(s.out)
}

type ioKey struct{}

type ioStreams struct{ out, err io.Writer }

// withIO makes commands write to stdout and stderr (tests capture them).
func withIO(ctx context.Context, stdout, stderr io.Writer) context.Context {
	return context.WithValue(ctx, ioKey{}, ioStreams{out: stdout, err: stderr})
}

func stdoutFrom(ctx context.Context) io.Writer {
	if s, ok := ctx.Value(ioKey{}).(ioStreams); ok && s.out != nil {
		return s.out
	}
	return os.Stdout
}

func stderrFrom(ctx context.Context) io.Writer {
	if s, ok := ctx.Value(ioKey{}).(ioStreams); ok && s.err != nil {
		return s.err
	}
	return os.Stderr
}
