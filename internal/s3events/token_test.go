package s3events

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/cofferbackup/coffer/internal/fsmode"
)

// TestLoadOrCreateToken: the environment wins; otherwise the token is
// made once (0600), kept across starts, shared by processes starting
// together, and refused when open to others.
func TestLoadOrCreateToken(t *testing.T) {
	dir := t.TempDir()
	if tok, path, created, err := LoadOrCreateToken(dir, "from-the-environment-0123"); err != nil || tok != "from-the-environment-0123" || path != "" || created {
		t.Fatalf("from env: %q %q %v %v", tok, path, created, err)
	}
	if _, _, _, err := LoadOrCreateToken(dir, "short"); err == nil {
		t.Fatal("a short COFFER_EVENTS_TOKEN was accepted")
	}
	var wg sync.WaitGroup
	toks := make([]string, 8)
	made := make([]bool, 8)
	for i := range toks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			toks[i], _, made[i], err = LoadOrCreateToken(dir, "")
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	creators := 0
	for i, tok := range toks {
		if tok != toks[0] || len(tok) != 64 {
			t.Fatalf("start %d got token %q, start 0 %q", i, tok, toks[0])
		}
		if made[i] {
			creators++
		}
	}
	if creators != 1 {
		t.Fatalf("%d starts created the token, want 1", creators)
	}
	path := filepath.Join(dir, TokenFile)
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v, want mode 0600", st, err)
	}
	if tok, _, created, err := LoadOrCreateToken(dir, ""); err != nil || created || tok != toks[0] {
		t.Fatalf("restart: %q %v %v", tok, created, err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := LoadOrCreateToken(dir, ""); !errors.Is(err, fsmode.ErrExposed) {
		t.Fatalf("a token open to others: %v, want ErrExposed", err)
	}
}

// TestAuthorized: only "Bearer <the token>".
func TestAuthorized(t *testing.T) {
	const tok = "0123456789abcdef0123"
	for _, tt := range []struct {
		header, token string
		want          bool
	}{
		{"Bearer " + tok, tok, true},
		{"Bearer " + tok + "x", tok, false},
		{"Bearer " + tok[:10], tok, false},
		{tok, tok, false},
		{"Basic " + tok, tok, false},
		{"", tok, false},
		{"Bearer ", "", false},
	} {
		if got := Authorized(tt.header, tt.token); got != tt.want {
			t.Errorf("Authorized(%q, %q) = %v, want %v", tt.header, tt.token, got, tt.want)
		}
	}
}
