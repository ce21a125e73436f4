package testserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server kinds.
const (
	MinIO     = "minio"
	VersityGW = "versitygw"
)

// InstallHint is the command that builds the server binaries.
const InstallHint = "bash scripts/install-test-servers.sh"

const (
	defaultAccessKey = "cofferadmin"
	defaultSecretKey = "coffer-secret-key-123"
	defaultRegion    = "us-east-1"
	readyTimeout     = 60 * time.Second
	stopTimeout      = 10 * time.Second
	startAttempts    = 3
)

// Kinds lists every server kind, for table-driven tests.
func Kinds() []string { return []string{MinIO, VersityGW} }

// Options adjusts how a server is started.
type Options struct {
	// Env is added to the server's environment (KEY=VALUE), e.g. MinIO's
	// MINIO_NOTIFY_WEBHOOK_* settings.
	Env []string
	// Args are added to the command line: after the server arguments for
	// MinIO, as global flags (before the posix subcommand) for versitygw,
	// e.g. --event-webhook-url.
	Args []string
}

// Server is one running S3 server.
type Server struct {
	Kind      string
	Endpoint  string // http://127.0.0.1:PORT
	AccessKey string
	SecretKey string
	Region    string

	// Dir is the server's private temporary folder (data and log).
	Dir     string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the process has exited
	waitErr error         // valid after exited is closed
	stopMu  sync.Mutex
	stopped bool
}

// BinDir is where the server binaries are looked up.
func BinDir() string {
	if d := os.Getenv("COFFER_TESTBIN"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = os.TempDir()
	}
	return filepath.Join(home, ".cache", "coffer", "testbin")
}

// BinPath returns the path of kind's binary, or an error naming the install
// command when it is missing.
func BinPath(kind string) (string, error) {
	if kind != MinIO && kind != VersityGW {
		return "", fmt.Errorf("testserver: unknown server kind %q (want one of %v)", kind, Kinds())
	}
	p := filepath.Join(BinDir(), kind)
	fi, err := os.Stat(p)
	if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		return "", fmt.Errorf("testserver: %s binary not found at %s; build the test servers with `%s` "+
			"(set COFFER_TESTBIN to use another folder)", kind, p, InstallHint)
	}
	return p, nil
}

// Start starts a server of kind for this test only; t.Cleanup stops it and
// removes its data.
func Start(t testing.TB, kind string) *Server {
	t.Helper()
	return StartWith(t, kind, Options{})
}

// StartMinIO starts a MinIO server for this test.
func StartMinIO(t testing.TB) *Server { t.Helper(); return Start(t, MinIO) }

// StartVersityGW starts a versitygw server (posix backend, versioning on)
// for this test.
func StartVersityGW(t testing.TB) *Server { t.Helper(); return Start(t, VersityGW) }

// StartWith is Start with options.
func StartWith(t testing.TB, kind string, opts Options) *Server {
	t.Helper()
	s, err := Launch(kind, opts)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("%v", err)
		}
	})
	return s
}

// Launch starts a server outside of any test's lifetime; the caller must
// call Stop. Most tests want Start or Shared.
func Launch(kind string, opts Options) (*Server, error) {
	bin, err := BinPath(kind)
	if err != nil {
		return nil, err
	}
	sweepOnce.Do(sweepStale)
	var lastErr error
	for attempt := 0; attempt < startAttempts; attempt++ {
		s, err := launchOnce(kind, bin, opts)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func launchOnce(kind, bin string, opts Options) (*Server, error) {
	dir, err := os.MkdirTemp("", "coffer-"+kind+"-")
	if err != nil {
		return nil, fmt.Errorf("testserver: %w", err)
	}
	if err := writeOwner(dir); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("testserver: %w", err)
	}
	s := &Server{
		Kind:      kind,
		AccessKey: defaultAccessKey,
		SecretKey: defaultSecretKey,
		Region:    defaultRegion,
		Dir:       dir,
		logPath:   filepath.Join(dir, "server.log"),
		exited:    make(chan struct{}),
	}
	ports, err := freePorts(2)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	s.Endpoint = fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	args, env, healthPath, err := s.command(ports, opts)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := s.run(bin, args, env); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := s.waitReady(healthPath); err != nil {
		tail := s.LogTail(40)
		_ = s.Stop()
		return nil, fmt.Errorf("testserver: %s did not become ready: %v\n--- server log tail ---\n%s", kind, err, tail)
	}
	return s, nil
}

// command returns the arguments, extra environment and health path.
func (s *Server) command(ports []int, opts Options) ([]string, []string, string, error) {
	switch s.Kind {
	case MinIO:
		data := filepath.Join(s.Dir, "data")
		args := []string{"server", data,
			"--address", fmt.Sprintf("127.0.0.1:%d", ports[0]),
			"--console-address", fmt.Sprintf("127.0.0.1:%d", ports[1]),
			"--quiet"}
		args = append(args, opts.Args...)
		env := []string{
			"MINIO_ROOT_USER=" + s.AccessKey,
			"MINIO_ROOT_PASSWORD=" + s.SecretKey,
			"MINIO_REGION=" + s.Region,
			"MINIO_BROWSER=off",
			"MINIO_UPDATE=off",
			"MINIO_CI_CD=1",
		}
		return args, append(env, opts.Env...), "/minio/health/ready", nil
	case VersityGW:
		root := filepath.Join(s.Dir, "root")
		versions := filepath.Join(s.Dir, "versions")
		for _, d := range []string{root, versions} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return nil, nil, "", fmt.Errorf("testserver: %w", err)
			}
		}
		args := []string{
			"--port", fmt.Sprintf("127.0.0.1:%d", ports[0]),
			"--access", s.AccessKey,
			"--secret", s.SecretKey,
			"--region", s.Region,
			"--health", "/health",
			"--quiet",
		}
		args = append(args, opts.Args...)
		args = append(args, "posix", "--versioning-dir", versions, root)
		return args, opts.Env, "/health", nil
	}
	return nil, nil, "", fmt.Errorf("testserver: unknown server kind %q", s.Kind)
}

func (s *Server) run(bin string, args, env []string) error {
	logf, err := os.Create(s.logPath)
	if err != nil {
		return fmt.Errorf("testserver: %w", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = s.Dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = sysProcAttr()
	s.cmd = cmd
	started := make(chan error, 1)
	go func() {
		// The child is killed if the OS thread that started it exits
		// (Pdeathsig on Linux), so start and wait on one locked thread
		// that lives exactly as long as the child.
		lockThread()
		if err := cmd.Start(); err != nil {
			started <- err
			_ = logf.Close()
			return
		}
		started <- nil
		s.waitErr = cmd.Wait()
		_ = logf.Close()
		close(s.exited)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("testserver: start %s: %w", s.Kind, err)
	}
	return nil
}

func (s *Server) waitReady(healthPath string) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(readyTimeout)
	url := s.Endpoint + healthPath
	for {
		select {
		case <-s.exited:
			return fmt.Errorf("process exited: %v", s.waitErr)
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no 200 from %s after %v (last error %v)", url, readyTimeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop terminates the server and removes its folder. It is safe to call
// more than once.
func (s *Server) Stop() error {
	s.stopMu.Lock()
	defer s.stopMu.Unlock()
	if s.stopped {
		return nil
	}
	s.stopped = true
	var errs []error
	if s.cmd != nil && s.cmd.Process != nil {
		// The data is thrown away, so there is nothing to shut down
		// gracefully; versitygw takes seconds to exit on SIGTERM.
		_ = s.cmd.Process.Kill()
		select {
		case <-s.exited:
		case <-time.After(stopTimeout):
			errs = append(errs, fmt.Errorf("testserver: %s (pid %d) did not exit within %v of SIGKILL", s.Kind, s.cmd.Process.Pid, stopTimeout))
		}
	}
	if err := os.RemoveAll(s.Dir); err != nil {
		errs = append(errs, fmt.Errorf("testserver: remove %s: %w", s.Dir, err))
	}
	return errors.Join(errs...)
}

// Alive reports whether the server process is still running.
func (s *Server) Alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// LogTail returns the last n lines of the server's combined output.
func (s *Server) LogTail(n int) string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Addr is the host:port part of Endpoint.
func (s *Server) Addr() string { return strings.TrimPrefix(s.Endpoint, "http://") }

// freePorts reserves n distinct free loopback ports. They are released
// before the server binds them, so a start can still lose a race; Launch
// retries.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("testserver: find a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// ctx returns a context for setup calls.
func setupCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}
