package service

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/capturestore"
	"github.com/cofferbackup/coffer/internal/catalog/connstore"
	"github.com/cofferbackup/coffer/internal/catalog/holdstore"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/catalog/planstore"
)

// ErrMasterKeyMismatch is returned by Open when the catalog's database was
// first used by a server with another master key.
var ErrMasterKeyMismatch = errors.New("the catalog belongs to a server with another master key")

// IsPostgresURL reports whether database (Config.Database) names a
// PostgreSQL database rather than the SQLite default.
func IsPostgresURL(database string) bool {
	return strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://")
}

// openCatalog opens the catalog Config.Database names (SQLite catalog.db
// in the data directory when empty) and checks that it belongs to this
// server's master key.
func (s *Service) openCatalog(ctx context.Context) error {
	var err error
	switch db := s.cfg.Database; {
	case db == "":
		s.db, err = catalog.OpenSQLite(ctx, filepath.Join(s.cfg.DataDir, "catalog.db"))
	case IsPostgresURL(db):
		s.db, err = catalog.OpenPostgres(ctx, db, catalog.PostgresOptions{})
	default:
		return errors.New("database: want empty (SQLite in the data directory) or a postgres:// URL")
	}
	if err != nil {
		return err
	}
	s.jobStore, s.planStore, s.holdStore = jobstore.New(s.db), planstore.New(s.db), holdstore.New(s.db)
	s.connStore, s.captureStore = connstore.New(s.db), capturestore.New(s.db)
	err = s.db.CheckKeyFingerprint(ctx, keyFingerprint(s.cfg.MasterKey))
	if errors.Is(err, catalog.ErrKeyMismatch) {
		// Each vault's secret derives from the master key: a second key
		// on the same catalog could open none of the first one's vaults.
		return fmt.Errorf("%w (%v): start this server with the master key the catalog was created with, or give it its own database", ErrMasterKeyMismatch, err)
	}
	return err
}

// keyFingerprint identifies the master key without revealing it: an HMAC of
// a fixed label under the key.
func keyFingerprint(master []byte) string {
	mac := hmac.New(sha256.New, master)
	mac.Write([]byte("coffer catalog master key fingerprint v1"))
	return hex.EncodeToString(mac.Sum(nil))
}
