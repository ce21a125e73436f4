package fsmode

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strings"
)

// The modes of what coffer creates in its data directory.
const (
	Dir  fs.FileMode = 0o700
	File fs.FileMode = 0o600
)

// ErrExposed is wrapped by CheckSecret's error: the file is open to group
// or others.
var ErrExposed = errors.New("open to group or others")

// open is the group and other permission bits.
const open fs.FileMode = 0o077

// hasModes is false where permission bits mean nothing.
var hasModes = runtime.GOOS != "windows"

// PrivateDir creates dir (and missing parents) with mode 0700, or makes an
// existing dir 0700. was is the looser mode an existing dir had, 0 when
// it was created or already private: callers log the change.
func PrivateDir(dir string) (was fs.FileMode, err error) {
	if err := os.MkdirAll(dir, Dir); err != nil {
		return 0, fmt.Errorf("create directory %s: %w", dir, err)
	}
	if !hasModes {
		return 0, nil
	}
	st, err := os.Stat(dir)
	if err != nil {
		return 0, fmt.Errorf("stat directory %s: %w", dir, err)
	}
	if st.Mode().Perm() == Dir {
		return 0, nil
	}
	if err := os.Chmod(dir, Dir); err != nil {
		return 0, fmt.Errorf("make directory %s private (mode %04o, want 0700): %w", dir, st.Mode().Perm(), err)
	}
	return st.Mode().Perm(), nil
}

// Restrict makes the file at path 0600 when group or others have any
// permission on it (its owner's bits are left as they are if tighter);
// a missing file is no error. It is for files coffer made itself, which
// an older version or another tool may have left open.
func Restrict(path string) error {
	if !hasModes {
		return nil
	}
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stat %s: %w", path, err)
	}
	if st.Mode().Perm()&open == 0 {
		return nil
	}
	if err := os.Chmod(path, st.Mode().Perm()&File); err != nil {
		return fmt.Errorf("make %s private: %w", path, err)
	}
	return nil
}

// CheckSecret returns an error wrapping ErrExposed, naming the file, its
// mode and the command that fixes it, when group or others have any
// permission on the file at path.
func CheckSecret(path string) error {
	if !hasModes {
		return nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("check mode: %w", err)
	}
	if perm := st.Mode().Perm(); perm&open != 0 {
		return fmt.Errorf("%s has mode %04o, %w: it must be readable by its owner only; run: chmod 600 %s",
			path, perm, ErrExposed, shellQuote(path))
	}
	return nil
}

// shellQuote quotes path for a shell when it holds anything but the
// characters of ordinary paths.
func shellQuote(path string) string {
	safe := func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+,:@%=", r)
	}
	if path != "" && strings.IndexFunc(path, func(r rune) bool { return !safe(r) }) < 0 {
		return path
	}
	return "'" + strings.ReplaceAll(path, "'", `'\''`) + "'"
}
