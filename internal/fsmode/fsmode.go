package fsmode

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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

// WriteNew writes data (mode 0600) to path only if path does not exist
// yet, and reports whether it did: a secret made on first start must
// never replace one another process made meanwhile. The file appears
// whole or not at all: it is written and synced under a temporary name,
// then hard-linked to path, which fails if path exists (a rename would
// replace it).
func WriteNew(path string, data []byte) (made bool, err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, Dir); err != nil {
		return false, fmt.Errorf("create directory %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return false, fmt.Errorf("create temporary file: %w", err)
	}
	defer os.Remove(tmp.Name())
	err = tmp.Chmod(File)
	if err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	switch err := os.Link(tmp.Name(), path); {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrExist):
		return false, nil
	default:
		return false, fmt.Errorf("link %s: %w", path, err)
	}
}
