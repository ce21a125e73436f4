package auth

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cofferbackup/coffer/internal/fsmode"
)

// CredentialsFileName is the name of the root credentials file inside the
// data directory.
const CredentialsFileName = "credentials.json"

const (
	accessKeyPrefix   = "CF"
	accessKeyLen      = 20
	secretKeyLen      = 40
	accessKeyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	secretKeyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// Credentials is an access key pair.
type Credentials struct {
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
}

// Complete reports whether both halves of the pair are set.
func (c Credentials) Complete() bool {
	return c.AccessKeyID != "" && c.SecretAccessKey != ""
}

// LoadOrCreateRoot returns the root credentials. When fromEnv is complete it
// is used as is (path is ""); a half-set fromEnv is an error. Otherwise the
// pair is read from <dataDir>/credentials.json, or, when that file does not
// exist, a new random pair is generated and written there with mode 0600
// (created is then true). A file group or others can read or write is
// refused (the error wraps fsmode.ErrExposed).
func LoadOrCreateRoot(dataDir string, fromEnv Credentials) (creds Credentials, path string, created bool, err error) {
	if fromEnv.Complete() {
		return fromEnv, "", false, nil
	}
	if fromEnv.AccessKeyID != "" || fromEnv.SecretAccessKey != "" {
		return Credentials{}, "", false, errors.New("root credentials: both the access key id and the secret access key must be given")
	}
	path = filepath.Join(dataDir, CredentialsFileName)
	creds, err = ReadCredentialsFile(path)
	if err == nil {
		if err := fsmode.CheckSecret(path); err != nil {
			return Credentials{}, path, false, fmt.Errorf("credentials file: %w", err)
		}
		return creds, path, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return Credentials{}, path, false, err
	}
	creds, err = Generate()
	if err != nil {
		return Credentials{}, path, false, err
	}
	if err := os.MkdirAll(dataDir, fsmode.Dir); err != nil {
		return Credentials{}, path, false, fmt.Errorf("root credentials: create data dir: %w", err)
	}
	existing, err := writeNew(path, creds)
	if err != nil {
		return Credentials{}, path, false, err
	}
	if existing {
		// Another process created the file first: use its pair.
		creds, err = ReadCredentialsFile(path)
		return creds, path, false, err
	}
	return creds, path, true, nil
}

// ReadCredentialsFile reads a credentials.json file. The error wraps
// fs.ErrNotExist when the file does not exist.
func ReadCredentialsFile(path string) (Credentials, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Credentials{}, fmt.Errorf("read credentials file: %w", err)
	}
	var c Credentials
	if err := json.Unmarshal(data, &c); err != nil {
		return Credentials{}, fmt.Errorf("parse credentials file %s: %w", path, err)
	}
	if !c.Complete() {
		return Credentials{}, fmt.Errorf("credentials file %s: access_key_id and secret_access_key must both be set", path)
	}
	return c, nil
}

// Generate returns a new random credential pair: an access key id of 20
// upper-case letters and digits starting with "CF", and a 40-character
// secret of letters and digits.
func Generate() (Credentials, error) {
	ak, err := randomString(accessKeyAlphabet, accessKeyLen-len(accessKeyPrefix))
	if err != nil {
		return Credentials{}, err
	}
	sk, err := randomString(secretKeyAlphabet, secretKeyLen)
	if err != nil {
		return Credentials{}, err
	}
	return Credentials{AccessKeyID: accessKeyPrefix + ak, SecretAccessKey: sk}, nil
}

// randomString draws n characters uniformly from alphabet (len < 256) using
// rejection sampling over crypto/rand bytes.
func randomString(alphabet string, n int) (string, error) {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("generate credentials: %w", err)
		}
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			out = append(out, alphabet[int(b)%len(alphabet)])
			if len(out) == n {
				break
			}
		}
	}
	return string(out), nil
}

// writeNew writes creds to path atomically with mode 0600: a temporary file
// in the same directory is written, synced and then linked into place, so a
// concurrent creator never sees a half-written file and never has its file
// replaced. existing is true when path appeared in the meantime.
func writeNew(path string, creds Credentials) (existing bool, err error) {
	data, err := json.MarshalIndent(creds, "", "  ")
	if err != nil {
		return false, fmt.Errorf("encode credentials: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".credentials-*.tmp")
	if err != nil {
		return false, fmt.Errorf("write credentials: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := writeSync(tmp, append(data, '\n')); err != nil {
		return false, fmt.Errorf("write credentials %s: %w", tmp.Name(), err)
	}
	err = os.Link(tmp.Name(), path)
	switch {
	case err == nil:
		return false, nil
	case errors.Is(err, fs.ErrExist):
		return true, nil
	}
	// Hard links are not supported everywhere: fall back to rename.
	if err := os.Rename(tmp.Name(), path); err != nil {
		return false, fmt.Errorf("write credentials %s: %w", path, err)
	}
	return false, nil
}

func writeSync(f *os.File, data []byte) error {
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
