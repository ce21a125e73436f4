package catalog

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/pgtest"
)

// opener opens the test's catalog; calling it again opens the same
// database again (a restarted process). Each DB is closed at cleanup.
type opener func(t *testing.T) *DB

// forEachEngine runs fn on a fresh SQLite catalog and on a fresh
// PostgreSQL schema (dropped after the test).
func forEachEngine(t *testing.T, fn func(t *testing.T, open opener)) {
	t.Helper()
	for _, engine := range []Engine{SQLite, Postgres} {
		t.Run(string(engine), func(t *testing.T) { fn(t, newOpener(t, engine)) })
	}
}

func newOpener(t *testing.T, engine Engine) opener {
	t.Helper()
	if engine == SQLite {
		path := filepath.Join(t.TempDir(), "catalog.db")
		return func(t *testing.T) *DB {
			t.Helper()
			db, err := OpenSQLite(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}
	}
	url, schema := pgtest.URL(), pgtest.NewSchema(t, "catalog_test")
	return func(t *testing.T) *DB {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db, err := OpenPostgres(ctx, url, PostgresOptions{Schema: schema})
		if err != nil {
			t.Fatal(pgtest.Unreachable(url, err))
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
}
