package catalog

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
)

// TestIsUnavailable: a refused connection is an outage; a file's error
// (here a missing file; a full disk or a read-only one alike) is not,
// though its syscall.Errno passes for a net.Error.
func TestIsUnavailable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	_, refused := net.Dial("tcp", addr)
	_, missing := os.Open(filepath.Join(t.TempDir(), "absent"))
	noDir := os.WriteFile(filepath.Join(t.TempDir(), "no-such-dir", "f"), nil, 0o600)
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"refused connection", refused, true},
		{"wrapped refused connection", fmt.Errorf("list jobs: %w", refused), true},
		{"missing file", missing, false},
		{"wrapped file error", fmt.Errorf("commit vault: %w", noDir), false},
		{"not found", ErrNotFound, false},
		{"nil", nil, false},
	} {
		if c.err == nil && c.name != "nil" {
			t.Fatalf("%s: no error to classify", c.name)
		}
		if got := IsUnavailable(c.err); got != c.want {
			t.Errorf("%s (%v): IsUnavailable = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}
