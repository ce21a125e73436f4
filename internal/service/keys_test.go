package service

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cofferbackup/coffer/internal/fsmode"
)

// TestMasterKeyCreatedOnce: processes starting together on a fresh data
// directory all end up with the one key that was written first; none
// replaces it (a replaced key makes the vaults of the process that made it
// unreadable after its restart).
func TestMasterKeyCreatedOnce(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	keys := make([][]byte, n)
	created := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keys[i], _, created[i], errs[i] = LoadOrCreateMasterKey(dir, "")
		}()
	}
	wg.Wait()
	makers := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("starter %d: %v", i, errs[i])
		}
		if created[i] {
			makers++
		}
		if !bytes.Equal(keys[i], keys[0]) {
			t.Fatalf("starter %d has another key than starter 0", i)
		}
	}
	if makers != 1 {
		t.Fatalf("%d starters say they created the key, want exactly 1", makers)
	}
	again, _, made, err := LoadOrCreateMasterKey(dir, "")
	if err != nil || made || !bytes.Equal(again, keys[0]) {
		t.Fatalf("a later start: made=%v err=%v, same key %v", made, err, bytes.Equal(again, keys[0]))
	}
}

// TestMasterKeyModeChecked: a master key file, named by the caller
// (COFFER_MASTER_KEY_FILE) or in the data directory, that group or others
// can read or write is refused with the file, its mode and the fix.
func TestMasterKeyModeChecked(t *testing.T) {
	key := []byte(strings.Repeat("ab", 32) + "\n")
	tests := []struct {
		name     string
		inData   bool // the key is <dataDir>/master.key, else a file named by path
		mode     fs.FileMode
		accepted bool
	}{
		{name: "named 0600", mode: 0o600, accepted: true},
		{name: "named 0400", mode: 0o400, accepted: true},
		{name: "named 0644", mode: 0o644},
		{name: "named 0640", mode: 0o640},
		{name: "named 0602", mode: 0o602},
		{name: "data dir 0600", inData: true, mode: 0o600, accepted: true},
		{name: "data dir 0644", inData: true, mode: 0o644},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dataDir, named := t.TempDir(), ""
			file := filepath.Join(dataDir, masterKeyFile)
			if !tt.inData {
				file = filepath.Join(t.TempDir(), "key")
				named = file
			}
			if err := os.WriteFile(file, key, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(file, tt.mode); err != nil {
				t.Fatal(err)
			}
			_, used, created, err := LoadOrCreateMasterKey(dataDir, named)
			if tt.accepted {
				if err != nil || used != file || created {
					t.Fatalf("used %s, created %v, err %v; want %s read", used, created, err, file)
				}
				return
			}
			if !errors.Is(err, fsmode.ErrExposed) {
				t.Fatalf("err %v, want fsmode.ErrExposed", err)
			}
			for _, want := range []string{file, fmt.Sprintf("mode %04o", tt.mode), "chmod 600 " + file} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%q does not say %q", err, want)
				}
			}
			if b, _ := os.ReadFile(file); !bytes.Equal(b, key) {
				t.Errorf("the refused key file was changed")
			}
		})
	}
}
