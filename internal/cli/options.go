package cli

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

// ErrUsage marks command-line mistakes.
var ErrUsage = errors.New("usage")

// serverInfo is the content of <data-dir>/server.json.
type serverInfo struct {
	Endpoint string `json:"endpoint"`
}

// WriteServerInfo records the endpoint a server listens on in
// <dataDir>/server.json (for `coffer server`).
func WriteServerInfo(dataDir, endpoint string) error {
	data, err := json.MarshalIndent(serverInfo{Endpoint: endpoint}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode server info: %w", err)
	}
	// A temporary file is made 0600 whatever the umask, and a new one each
	// time: a leftover of an older version's fixed name may be 0644.
	path := filepath.Join(dataDir, serverInfoFile)
	tmp, err := os.CreateTemp(dataDir, serverInfoFile+".*.tmp")
	if err != nil {
		return fmt.Errorf("write server info: %w", err)
	}
	_, err = tmp.Write(append(data, '\n'))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write server info: %w", err)
	}
	_ = os.Remove(path + ".tmp") // an older version's leftover
	return nil
}

// ReadServerInfo returns the endpoint in <dataDir>/server.json, "" when the
// file does not exist.
func ReadServerInfo(dataDir string) (string, error) {
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

// First returns the first non-empty value.
func First(vals ...string) string {
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
	o.DataDir = First(g.dataDir, env(envDataDir), defaultDataDir)
	o.Region = First(g.region, env(envRegion), defaultRegion)
	o.Endpoint = First(g.endpoint, env(envEndpoint))
	if o.Endpoint == "" {
		ep, err := ReadServerInfo(o.DataDir)
		if err != nil {
			return options{}, err
		}
		o.Endpoint = First(ep, defaultEndpoint)
	}
	ep, err := normalizeEndpoint(o.Endpoint)
	if err != nil {
		return options{}, err
	}
	o.Endpoint = ep
	o.Creds = auth.Credentials{
		AccessKeyID:     First(g.accessKey, env(envAccessKey), env(envRootAccessKey)),
		SecretAccessKey: First(g.secretKey, env(envSecretKey), env(envRootSecretKey)),
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

// Session is what a client command works with once its flags are parsed.
type Session struct {
	opts   options
	Client *backup.Client
	out    io.Writer // command output (stdout)
	errOut io.Writer // diagnostics (stderr)
}

// open resolves the options from g and the process environment and builds
// the client.
func (g *globalFlags) open(ctx context.Context) (*Session, error) {
	o, err := resolveOptions(*g, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	c, err := newClient(ctx, o)
	if err != nil {
		return nil, err
	}
	return &Session{opts: o, Client: c, out: StdoutFrom(ctx), errOut: StderrFrom(ctx)}, nil
}

// emit prints v as JSON with --json, else calls human.
func (s *Session) emit(v any, human func(w io.Writer) error) error {
	if s.opts.JSON {
		return PrintJSON(s.out, v)
	}
	return human(s.out)
}

// ClientCmd is the plumbing a client subcommand shares with the others:
// its flag set with the global flags, the check of its flags and the
// session it opens.
type ClientCmd struct {
	ctx   context.Context
	FS    *flag.FlagSet
	g     *globalFlags
	what  string       // the one positional argument ("one vault NAME"); "" when there is none
	Check func() error // run once the flags are parsed, before the session opens; may be nil
	More  string       // when not "": further arguments (one or more) follow the positional one ("KEY=VALUE...")
	Pos   []string     // the positional arguments, once start has parsed them
}

// NewClientCmd sets up `coffer NAME`. usage describes its arguments for
// the usage line; what, when not "", says that it takes exactly one
// positional argument and names it for the error when it is missing.
func NewClientCmd(ctx context.Context, name, usage, what string) *ClientCmd {
	fs, g := newFlagSet(ctx, name, usage)
	return &ClientCmd{ctx: ctx, FS: fs, g: g, what: what}
}

// start parses args, runs c.Check and opens the session. It returns the
// positional argument ("" when the command takes none).
func (c *ClientCmd) start(args []string) (*Session, string, error) {
	n := 0
	if c.what != "" {
		n = 1
	}
	var pos []string
	var err error
	if c.More == "" {
		pos, err = wantArgs(c.FS, args, n, c.what)
	} else if pos, err = parseArgs(c.FS, args); err == nil && len(pos) < 2 {
		c.FS.Usage()
		err = fmt.Errorf("%w: expected %s and %s", ErrUsage, c.what, c.More)
	}
	c.Pos = pos
	if err == nil && c.Check != nil {
		err = c.Check()
	}
	if err != nil {
		return nil, "", err
	}
	s, err := c.g.open(c.ctx)
	if err != nil || n == 0 {
		return s, "", err
	}
	return s, pos[0], nil
}

// CallAndShow runs the usual subcommand: parse its arguments, open a
// session, make the API call(s) in call with the positional argument and
// print the answer, as JSON with --json, else with human.
func CallAndShow[T any](c *ClientCmd, args []string, call func(context.Context, *Session, string) (T, error),
	human func(w io.Writer, out T, arg string) error) error {
	s, arg, err := c.start(args)
	if err != nil {
		return err
	}
	out, err := call(c.ctx, s, arg)
	if err != nil {
		return err
	}
	return s.emit(out, func(w io.Writer) error { return human(w, out, arg) })
}

// Say is a human printer for answers without content: it prints format
// with the positional argument.
func Say[T any](format string) func(io.Writer, T, string) error {
	return func(w io.Writer, _ T, arg string) error {
		_, err := fmt.Fprintf(w, format+"\n", arg)
		return err
	}
}

// ListAndShow runs a list subcommand: list fetches all the items, printed
// as {key: [items]} with --json, else as a table with the columns and a
// row per item.
func ListAndShow[T any](c *ClientCmd, args []string, key string, list func(context.Context, *Session) ([]T, error),
	columns []string, row func(T) []any) error {
	return CallAndShow(c, args, func(ctx context.Context, s *Session, _ string) (map[string][]T, error) {
		items, err := list(ctx, s)
		return map[string][]T{key: items}, err
	}, func(w io.Writer, out map[string][]T, _ string) error {
		t := NewTable(w, columns...)
		for _, it := range out[key] {
			t.Row(row(it)...)
		}
		return t.Flush()
	})
}

// ListPageSize is the MaxResults the list commands ask for; 0 leaves the
// page size to the server (tests make it small to cover paging).
var ListPageSize int32

// PageSize is the MaxResults of a list request.
func PageSize() *int32 {
	if ListPageSize <= 0 {
		return nil
	}
	n := ListPageSize
	return &n
}

// pager is an SDK paginator whose pages are P.
type pager[P any] interface {
	HasMorePages() bool
	NextPage(ctx context.Context, optFns ...func(*backup.Options)) (P, error)
}

// ListAll fetches every page of p and returns the items of all pages
// together (empty, not nil, when there are none); op names the listing in
// errors.
func ListAll[P, T any](ctx context.Context, p pager[P], items func(P) []T, op string) ([]T, error) {
	all := []T{}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, WrapAPI(op, err)
		}
		all = append(all, items(page)...)
	}
	return all, nil
}

type ioKey struct{}

type ioStreams struct{ out, err io.Writer }

// WithIO makes commands write to stdout and stderr (tests capture them).
func WithIO(ctx context.Context, stdout, stderr io.Writer) context.Context {
	return context.WithValue(ctx, ioKey{}, ioStreams{out: stdout, err: stderr})
}

// StdoutFrom is where commands print their output (WithIO, else os.Stdout).
func StdoutFrom(ctx context.Context) io.Writer {
	if s, ok := ctx.Value(ioKey{}).(ioStreams); ok && s.out != nil {
		return s.out
	}
	return os.Stdout
}

// StderrFrom is where commands print diagnostics (WithIO, else os.Stderr).
func StderrFrom(ctx context.Context) io.Writer {
	if s, ok := ctx.Value(ioKey{}).(ioStreams); ok && s.err != nil {
		return s.err
	}
	return os.Stderr
}
