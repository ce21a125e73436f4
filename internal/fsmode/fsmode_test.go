//go:build unix

package fsmode

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestCheckSecret(t *testing.T) {
	tests := []struct {
		mode    fs.FileMode
		exposed bool
	}{
		{0o600, false}, {0o400, false}, {0o700, false},
		{0o644, true}, {0o640, true}, {0o660, true}, {0o604, true}, {0o602, true}, {0o610, true}, {0o666, true},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		p := filepath.Join(dir, "key "+tt.mode.String())
		if err := os.WriteFile(p, []byte("k"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, tt.mode); err != nil {
			t.Fatal(err)
		}
		err := CheckSecret(p)
		if !tt.exposed {
			if err != nil {
				t.Errorf("%04o: %v", tt.mode, err)
			}
			continue
		}
		if !errors.Is(err, ErrExposed) {
			t.Errorf("%04o: err %v, want ErrExposed", tt.mode, err)
			continue
		}
		for _, w := range []string{p, fmt.Sprintf("mode %04o", tt.mode), "chmod 600 '" + p + "'"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%04o: %q does not say %q", tt.mode, err, w)
			}
		}
	}
	if err := CheckSecret(filepath.Join(dir, "absent")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("absent file: %v", err)
	}
}

func TestRestrict(t *testing.T) {
	tests := []struct{ mode, want fs.FileMode }{
		{0o644, 0o600}, {0o666, 0o600}, {0o444, 0o400}, {0o755, 0o600}, {0o600, 0o600}, {0o400, 0o400},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		p := filepath.Join(dir, tt.mode.String())
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, tt.mode); err != nil {
			t.Fatal(err)
		}
		if err := Restrict(p); err != nil {
			t.Fatalf("%04o: %v", tt.mode, err)
		}
		if st, _ := os.Stat(p); st.Mode().Perm() != tt.want {
			t.Errorf("%04o: now %04o, want %04o", tt.mode, st.Mode().Perm(), tt.want)
		}
	}
	if err := Restrict(filepath.Join(dir, "absent")); err != nil {
		t.Errorf("absent file: %v", err)
	}
}

func TestPrivateDir(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	tests := []struct {
		name  string
		exist fs.FileMode // 0: absent
		was   fs.FileMode
	}{
		{name: "new", was: 0},
		{name: "open", exist: 0o755, was: 0o755},
		{name: "group", exist: 0o750, was: 0o750},
		{name: "private", exist: 0o700, was: 0},
	}
	for _, tt := range tests {
		dir := filepath.Join(t.TempDir(), "a", "data")
		if tt.exist != 0 {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, tt.exist); err != nil {
				t.Fatal(err)
			}
		}
		was, err := PrivateDir(dir)
		if err != nil || was != tt.was {
			t.Errorf("%s: was %04o, %v; want %04o", tt.name, was, err, tt.was)
		}
		if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != Dir {
			t.Errorf("%s: mode %v %v, want 0700", tt.name, st.Mode(), err)
		}
	}
}

func TestShellQuote(t *testing.T) {
	tests := map[string]string{
		"/etc/coffer/key":     "/etc/coffer/key",
		"/srv/my key":         "'/srv/my key'",
		"/srv/it's":           `'/srv/it'\''s'`,
		"/a/$HOME":            "'/a/$HOME'",
		"relative/master.key": "relative/master.key",
	}
	for in, want := range tests {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %q, want %q", in, got, want)
		}
	}
}
