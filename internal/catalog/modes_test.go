//go:build unix

package catalog

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestSQLiteFilesPrivate: with umask 022 the SQLite catalog and its WAL
// and shared memory are 0600, on a new catalog and on one an older
// version left 0644 (with a stale WAL of that mode).
func TestSQLiteFilesPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	tests := []struct {
		name  string
		setup func(t *testing.T, path string)
	}{
		{name: "new", setup: func(*testing.T, string) {}},
		{name: "left open by an older version", setup: func(t *testing.T, path string) {
			db, err := OpenSQLite(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path+"-wal", nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "catalog.db")
			tt.setup(t, path)
			db, err := OpenSQLite(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			v := Vault{Name: "modes", ID: "id-modes", ARN: "arn:modes", CreatedAt: time.Unix(0, 0)}
			if err := db.CreateVault(context.Background(), v); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{path, path + "-wal", path + "-shm"} {
				st, err := os.Stat(name)
				if err != nil {
					t.Fatalf("%s: %v", filepath.Base(name), err)
				}
				if st.Mode().Perm() != fs.FileMode(0o600) {
					t.Errorf("%s: mode %04o, want 0600", filepath.Base(name), st.Mode().Perm())
				}
			}
		})
	}
}
