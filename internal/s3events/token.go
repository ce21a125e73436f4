package s3events

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cofferbackup/coffer/internal/fsmode"
)

// TokenFile is the name of the generated token in the data directory.
const TokenFile = "events.token"

// minToken is the shortest token accepted from a file or the
// environment: a short one could be guessed.
const minToken = 16

// LoadOrCreateToken returns the events token: fromEnv (COFFER_EVENTS_TOKEN)
// when set, else the one in <dataDir>/events.token, created (32 random
// bytes, hex, mode 0600) on first start. An existing file is never
// replaced: endpoints configured with its token keep working, and a
// second process starting at the same time uses the first one's token. A
// token file group or others can read or write is refused (the error
// wraps fsmode.ErrExposed).
func LoadOrCreateToken(dataDir, fromEnv string) (token, path string, created bool, err error) {
	if fromEnv != "" {
		if len(fromEnv) < minToken {
			return "", "", false, fmt.Errorf("COFFER_EVENTS_TOKEN: want at least %d characters", minToken)
		}
		return fromEnv, "", false, nil
	}
	path = filepath.Join(dataDir, TokenFile)
	token, err = readToken(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return token, path, false, err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", false, fmt.Errorf("generate events token: %w", err)
	}
	made, err := fsmode.WriteNew(path, []byte(hex.EncodeToString(b)+"\n"))
	if err != nil {
		return "", "", false, fmt.Errorf("write events token: %w", err)
	}
	token, err = readToken(path)
	return token, path, made && err == nil, err
}

func readToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read events token %q: %w", path, err)
	}
	if err := fsmode.CheckSecret(path); err != nil {
		return "", fmt.Errorf("events token: %w", err)
	}
	t := strings.TrimSpace(string(b))
	if len(t) < minToken {
		return "", fmt.Errorf("events token %q: want at least %d characters", path, minToken)
	}
	return t, nil
}

// Authorized reports whether an Authorization header carries token as
// "Bearer <token>", compared in constant time.
func Authorized(header, token string) bool {
	got, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || token == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) == 1
}
