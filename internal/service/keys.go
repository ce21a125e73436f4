package service

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cofferbackup/coffer/internal/fsmode"
)

const masterKeyFile = "master.key"

// LoadOrCreateMasterKey reads the server master key from path, or, when path
// is empty, from <dataDir>/master.key, creating it (32 random bytes, hex,
// mode 0600) on first start. created tells whether a new key was made. A
// key file group or others can read or write is refused (the error wraps
// fsmode.ErrExposed).
func LoadOrCreateMasterKey(dataDir, path string) (key []byte, used string, created bool, err error) {
	if path != "" {
		key, err := readMasterKey(path)
		return key, path, false, err
	}
	used = filepath.Join(dataDir, masterKeyFile)
	key, err = readMasterKey(used)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, used, false, err
	}
	key = make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, "", false, fmt.Errorf("generate master key: %w", err)
	}
	made, err := fsmode.WriteNew(used, []byte(hex.EncodeToString(key)+"\n"))
	if err != nil {
		return nil, "", false, fmt.Errorf("write master key: %w", err)
	}
	if !made {
		// Another process starting on the same data directory made its
		// key first: use that one. Replacing it would leave every vault
		// that process creates unreadable after its restart.
		key, err = readMasterKey(used)
		return key, used, false, err
	}
	return key, used, true, nil
}

func readMasterKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read master key %q: %w", path, err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) < 32 {
		return nil, fmt.Errorf("master key %q: want at least 32 hex-encoded bytes", path)
	}
	if err := fsmode.CheckSecret(path); err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	return key, nil
}

// vaultSecret derives a vault's repository password from the master key, so
// that one key file protects every vault and no vault secret is stored.
func vaultSecret(master []byte, vaultID string) string {
	m := hmac.New(sha256.New, master)
	m.Write([]byte("coffer vault secret v1\x00" + vaultID))
	return hex.EncodeToString(m.Sum(nil))
}

// keyHashSecret derives from the master key the secret of the keyed
// hashes that stand for object keys in the catalog and the log.
func keyHashSecret(master []byte) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte("coffer object key hash v1"))
	return m.Sum(nil)
}

// connectionSealKey derives from the master key the key that seals the
// secret keys of S3 connections in the catalog.
func connectionSealKey(master []byte) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte("coffer connection secrets v1"))
	return m.Sum(nil)
}

// verificationSealKey derives from the master key the key that seals the
// problems of verification jobs in the catalog.
func verificationSealKey(master []byte) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte("coffer verification problems v1"))
	return m.Sum(nil)
}
