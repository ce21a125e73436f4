package auth

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cofferbackup/coffer/internal/fsmode"
)

func TestLoadOrCreateRoot(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	creds, path, created, err := LoadOrCreateRoot(dir, Credentials{})
	if err != nil || !created {
		t.Fatalf("first LoadOrCreateRoot: created=%v err=%v", created, err)
	}
	if want := filepath.Join(dir, CredentialsFileName); path != want {
		t.Errorf("path = %s, want %s", path, want)
	}
	if !regexp.MustCompile(`^CF[A-Z0-9]{18}$`).MatchString(creds.AccessKeyID) {
		t.Errorf("access key id %q has the wrong shape", creds.AccessKeyID)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9]{40}$`).MatchString(creds.SecretAccessKey) {
		t.Errorf("secret %q has the wrong shape", creds.SecretAccessKey)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode = %04o, want 0600", st.Mode().Perm())
	}
	if err := fsmode.CheckSecret(path); err != nil {
		t.Errorf("CheckSecret: %v", err)
	}
	again, path2, created2, err := LoadOrCreateRoot(dir, Credentials{})
	if err != nil || created2 || again != creds || path2 != path {
		t.Fatalf("second LoadOrCreateRoot = %+v %s %v %v, want the stored pair", again, path2, created2, err)
	}
	read, err := ReadCredentialsFile(path)
	if err != nil || read != creds {
		t.Fatalf("ReadCredentialsFile = %+v, %v", read, err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".credentials-*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

func TestLoadOrCreateRootFromEnv(t *testing.T) {
	dir := t.TempDir()
	env := Credentials{AccessKeyID: "AKENV", SecretAccessKey: "SKENV"}
	creds, path, created, err := LoadOrCreateRoot(dir, env)
	if err != nil || creds != env || path != "" || created {
		t.Fatalf("LoadOrCreateRoot(env) = %+v %q %v %v", creds, path, created, err)
	}
	if _, err := os.Stat(filepath.Join(dir, CredentialsFileName)); !os.IsNotExist(err) {
		t.Errorf("credentials file written although env credentials were given")
	}
	if _, _, _, err := LoadOrCreateRoot(dir, Credentials{AccessKeyID: "only"}); err == nil {
		t.Errorf("half-set env credentials accepted")
	}
}

func TestReadCredentialsFileInvalid(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		"garbage":     "not json",
		"missing key": `{"secret_access_key":"x"}`,
		"empty":       `{}`,
	}
	for name, content := range cases {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadCredentialsFile(p); err == nil {
			t.Errorf("%s: ReadCredentialsFile accepted %q", name, content)
		}
	}
	if _, err := ReadCredentialsFile(filepath.Join(dir, "absent")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("absent file error = %v, want not-exist", err)
	}
}

// TestLoadOrCreateRootRefusesExposedFile: a credentials file group or
// others can read or write is refused, naming the file and the fix; it is
// left as it is (and not replaced by a new pair).
func TestLoadOrCreateRootRefusesExposedFile(t *testing.T) {
	for _, mode := range []fs.FileMode{0o644, 0o640, 0o606} {
		dir := t.TempDir()
		p := filepath.Join(dir, CredentialsFileName)
		content := `{"access_key_id":"CFOLD","secret_access_key":"old"}`
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		_, _, _, err := LoadOrCreateRoot(dir, Credentials{})
		if !errors.Is(err, fsmode.ErrExposed) || !strings.Contains(err.Error(), "chmod 600 "+p) {
			t.Errorf("mode %04o: err %v, want ErrExposed and the chmod to run", mode, err)
		}
		if b, _ := os.ReadFile(p); string(b) != content {
			t.Errorf("mode %04o: the file was changed to %q", mode, b)
		}
		// Credentials from the environment do not read the file.
		if _, _, _, err := LoadOrCreateRoot(dir, Credentials{AccessKeyID: "A", SecretAccessKey: "S"}); err != nil {
			t.Errorf("mode %04o, credentials from the environment: %v", mode, err)
		}
	}
}

func TestGenerateUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		c, err := Generate()
		if err != nil {
			t.Fatal(err)
		}
		if seen[c.AccessKeyID] || seen[c.SecretAccessKey] {
			t.Fatalf("duplicate generated credential %+v", c)
		}
		seen[c.AccessKeyID], seen[c.SecretAccessKey] = true, true
	}
}
