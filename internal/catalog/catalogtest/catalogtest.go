// Package catalogtest opens catalogs for the tests of the catalog's
// stores (internal/catalog/...), on every engine: a fresh SQLite file and
// a fresh PostgreSQL schema. The catalog's own tests keep their copy
// (engines_test.go), which reaches the core's unexported parts.
package catalogtest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/pgtest"
)

// Opener opens the test's catalog; calling it again opens the same
// database again (a restarted process). Each DB is closed at cleanup.
type Opener func(t *testing.T) *catalog.DB

// ForEachEngine runs fn on a fresh SQLite catalog and on a fresh
// PostgreSQL schema (dropped after the test).
func ForEachEngine(t *testing.T, fn func(t *testing.T, open Opener)) {
	t.Helper()
	for _, engine := range []catalog.Engine{catalog.SQLite, catalog.Postgres} {
		t.Run(string(engine), func(t *testing.T) { fn(t, NewOpener(t, engine)) })
	}
}

// NewOpener returns the Opener of a fresh catalog on engine.
func NewOpener(t *testing.T, engine catalog.Engine) Opener {
	t.Helper()
	if engine == catalog.SQLite {
		path := filepath.Join(t.TempDir(), "catalog.db")
		return func(t *testing.T) *catalog.DB {
			t.Helper()
			db, err := catalog.OpenSQLite(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}
	}
	url, schema := pgtest.URL(), pgtest.NewSchema(t, "catalog_test")
	return func(t *testing.T) *catalog.DB {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db, err := catalog.OpenPostgres(ctx, url, catalog.PostgresOptions{Schema: schema})
		if err != nil {
			t.Fatal(pgtest.Unreachable(url, err))
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
}

// Open opens a fresh SQLite catalog, for tests not run on every engine.
func Open(t *testing.T) *catalog.DB {
	t.Helper()
	return NewOpener(t, catalog.SQLite)(t)
}
