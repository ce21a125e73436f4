package jobstore

import (
	"context"
	"testing"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/catalogtest"
)

var ctx = context.Background()

// testDB is a catalog and its store, as the tests use them: one value for
// the core's methods (vaults, events) and the store's.
type testDB struct {
	*catalog.DB
	*Store
}

// opener opens the test's catalog; calling it again opens the same
// database again (a restarted process).
type opener func(t *testing.T) testDB

// forEachEngine runs fn on a fresh SQLite catalog and on a fresh
// PostgreSQL schema (see catalogtest).
func forEachEngine(t *testing.T, fn func(t *testing.T, open opener)) {
	t.Helper()
	catalogtest.ForEachEngine(t, func(t *testing.T, open catalogtest.Opener) {
		fn(t, func(t *testing.T) testDB {
			t.Helper()
			db := open(t)
			return testDB{DB: db, Store: New(db)}
		})
	})
}
