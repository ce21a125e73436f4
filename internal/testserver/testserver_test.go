package testserver

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
)

func TestMain(m *testing.M) { Main(m) }

// TestServers checks that each kind starts, serves S3 with versioning and
// object lock, and that Shared hands out one server per kind.
func TestServers(t *testing.T) {
	for _, kind := range Kinds() {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			srv := Shared(t, kind)
			if again := Shared(t, kind); again != srv {
				t.Fatalf("Shared returned a second %s server", kind)
			}
			if !strings.HasPrefix(srv.Endpoint, "http://127.0.0.1:") || srv.Region != "us-east-1" {
				t.Fatalf("endpoint %q region %q", srv.Endpoint, srv.Region)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c := srv.Client(t)
			b1, b2 := srv.NewBucket(t, true), srv.NewBucket(t, false)
			if b1 == b2 {
				t.Fatalf("NewBucket returned %q twice", b1)
			}
			v, err := c.GetBucketVersioning(ctx, b1)
			if err != nil || v.Status != "Enabled" {
				t.Fatalf("versioning of %s: %+v, %v", b1, v, err)
			}
			v, err = c.GetBucketVersioning(ctx, b2)
			if err != nil || v.Status != "" {
				t.Fatalf("versioning of unversioned %s: %+v, %v", b2, v, err)
			}
			for i := 0; i < 2; i++ {
				if _, err := c.PutObject(ctx, b1, "k", bytes.NewReader([]byte{byte(i)}), 1, minio.PutObjectOptions{}); err != nil {
					t.Fatalf("put: %v", err)
				}
			}
			n := 0
			for o := range c.ListObjects(ctx, b1, minio.ListObjectsOptions{WithVersions: true, Recursive: true}) {
				if o.Err != nil {
					t.Fatalf("list: %v", o.Err)
				}
				n++
			}
			if n != 2 {
				t.Fatalf("versions listed: %d, want 2", n)
			}
			lb := srv.NewBucketWith(t, BucketOptions{ObjectLock: true})
			state, _, _, _, err := c.GetObjectLockConfig(ctx, lb)
			if err != nil || state != "Enabled" {
				t.Fatalf("object lock of %s: %q, %v", lb, state, err)
			}
		})
	}
}

// TestStartStop checks a per-test server's whole life: it is gone, data
// folder included, after Stop.
func TestStartStop(t *testing.T) {
	for _, kind := range Kinds() {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			srv, err := Launch(kind, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !srv.Alive() {
				t.Fatal("not alive after Launch")
			}
			if err := srv.Stop(); err != nil {
				t.Fatal(err)
			}
			if srv.Alive() {
				t.Fatal("alive after Stop")
			}
			if _, err := os.Stat(srv.Dir); !os.IsNotExist(err) {
				t.Fatalf("data folder %s left behind: %v", srv.Dir, err)
			}
			if err := srv.Stop(); err != nil {
				t.Fatalf("second Stop: %v", err)
			}
		})
	}
}

func TestMissingBinaryNamesInstallScript(t *testing.T) {
	t.Setenv("COFFER_TESTBIN", filepath.Join(t.TempDir(), "nothing-here"))
	_, err := Launch(MinIO, Options{})
	if err == nil || !strings.Contains(err.Error(), InstallHint) {
		t.Fatalf("error %v does not name %q", err, InstallHint)
	}
	if _, err := BinPath("ceph"); err == nil {
		t.Fatal("unknown kind accepted")
	}
}

func TestUniqueBucketName(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
	seen := map[string]bool{}
	for _, hint := range []string{"", "TestX/sub_test#01", strings.Repeat("Ab/", 50), "---"} {
		n := UniqueBucketName(hint)
		if !valid.MatchString(n) || strings.Contains(n, "--") {
			t.Errorf("invalid bucket name %q from %q", n, hint)
		}
		if seen[n] {
			t.Errorf("duplicate %q", n)
		}
		seen[n] = true
	}
}

func TestLogTail(t *testing.T) {
	s := &Server{logPath: filepath.Join(t.TempDir(), "log")}
	if err := os.WriteFile(s.logPath, []byte("a\nb\nc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := s.LogTail(2); got != "b\nc" {
		t.Fatalf("LogTail(2) = %q", got)
	}
}

func TestSweepStale(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	mk := func(name, owner string) string {
		d := filepath.Join(tmp, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if owner != "" {
			if err := os.WriteFile(filepath.Join(d, ownerFile), []byte(owner), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	dead := mk("coffer-minio-dead", "2147483646")
	mine := mk("coffer-versitygw-mine", strconv.Itoa(os.Getpid()))
	parent := mk("coffer-minio-parent", strconv.Itoa(os.Getppid()))
	unowned := mk("coffer-minio-unowned", "")
	other := mk("something-else", "2147483646")
	sweepStale()
	for d, keep := range map[string]bool{dead: false, mine: true, parent: true, unowned: true, other: true} {
		_, err := os.Stat(d)
		if kept := err == nil; kept != keep {
			t.Errorf("%s: kept %v, want %v", filepath.Base(d), kept, keep)
		}
	}
}
