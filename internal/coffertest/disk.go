package coffertest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// SmallDisk is a real file system that runs out of space: a tmpfs of a
// given size, mounted in a user and mount namespace of its own by
// unshare(1), which needs no root (unprivileged user namespaces may mount
// tmpfs), and reached from the test's process through the helper's
// /proc/PID/root. Writes past its size fail with ENOSPC as on a full disk.
// A wrapper of the vault store would only fake the error at the calls it
// wraps; this fails kopia's own writes wherever they happen.
type SmallDisk struct {
	Dir   string // the mounted tmpfs as seen from this process
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// NewSmallDisk mounts a tmpfs of size bytes until the test ends; it fails
// the test, saying why, where unshare or user namespaces are missing.
func NewSmallDisk(t testing.TB, size int64) *SmallDisk {
	t.Helper()
	mnt := t.TempDir()
	// The helper holds the namespace until its stdin closes (the test's
	// end, or this process dying).
	cmd := exec.Command("unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
		fmt.Sprintf(`mount -t tmpfs -o size=%d,mode=0700 coffer-small-disk %q && echo mounted && exec cat >/dev/null`, size, mnt))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("small disk: start unshare (util-linux): %v", err)
	}
	d := &SmallDisk{cmd: cmd, stdin: stdin, Dir: filepath.Join(fmt.Sprintf("/proc/%d/root", cmd.Process.Pid), mnt)}
	t.Cleanup(func() { _ = d.stdin.Close(); _ = d.cmd.Wait() })
	ready := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(out).ReadString('\n')
		if err == nil && strings.TrimSpace(line) != "mounted" {
			err = fmt.Errorf("unexpected %q", line)
		}
		ready <- err
	}()
	select {
	case err = <-ready:
	case <-time.After(30 * time.Second):
		err = errors.New("no answer in 30 s")
	}
	if err != nil {
		t.Fatalf("small disk: unshare could not mount a tmpfs (user namespaces disabled?): %v; %s", err, stderr.String())
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(d.Dir, &st); err != nil || st.Blocks*uint64(st.Bsize) > uint64(size)+1<<20 {
		t.Fatalf("small disk: %s is not the tmpfs (%v, %d bytes)", d.Dir, err, st.Blocks*uint64(st.Bsize))
	}
	return d
}

// Free is the space left, in bytes.
func (d *SmallDisk) Free(t testing.TB) int64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(d.Dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * st.Bsize
}

// Fill writes a filler file until the disk is full, leaving keep bytes.
func (d *SmallDisk) Fill(t testing.TB, keep int64) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(d.Dir, ".filler"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		n := min(int64(len(buf)), d.Free(t)-keep)
		if n <= 0 {
			return
		}
		if _, err := f.Write(buf[:n]); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return
			}
			t.Fatal(err)
		}
	}
}

// Empty removes the filler file: the space is back.
func (d *SmallDisk) Empty(t testing.TB) {
	t.Helper()
	if err := os.Remove(filepath.Join(d.Dir, ".filler")); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
}
