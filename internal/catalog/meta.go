package catalog

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
)

// ErrKeyMismatch is returned by CheckKeyFingerprint when the catalog was
// created under another master key.
var ErrKeyMismatch = errors.New("catalog belongs to another master key")

const keyFingerprintName = "master_key_fingerprint"

// CheckKeyFingerprint records fp as the catalog's master-key fingerprint if
// it has none yet, and otherwise returns ErrKeyMismatch unless fp is the
// recorded one: two servers with different keys must never share a
// catalog (each could read only its own vaults).
func (c *DB) CheckKeyFingerprint(ctx context.Context, fp string) error {
	if _, err := c.db.ExecContext(ctx, `INSERT INTO catalog_meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`,
		keyFingerprintName, fp); err != nil {
		return fmt.Errorf("record master key fingerprint: %w", err)
	}
	var stored string
	if err := c.db.QueryRowContext(ctx, `SELECT value FROM catalog_meta WHERE name = ?`, keyFingerprintName).Scan(&stored); err != nil {
		return fmt.Errorf("read master key fingerprint: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(stored), []byte(fp)) != 1 {
		return fmt.Errorf("%w: this server's master key has fingerprint %s, the catalog was created under %s", ErrKeyMismatch, fp, stored)
	}
	return nil
}
