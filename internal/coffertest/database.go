package coffertest

import (
	"net/url"
	"testing"

	"github.com/cofferbackup/coffer/internal/pgtest"
)

// Engines are the catalog databases tests run on: "sqlite" and "postgres".
var Engines = []string{"sqlite", "postgres"}

// PostgresURL is the PostgreSQL server tests use (see pgtest.URL).
func PostgresURL() string { return pgtest.URL() }

// Database returns Options.Database for engine: "" for SQLite, else the
// URL of a fresh PostgreSQL schema (search_path), dropped when the test
// ends. It fails the test if PostgreSQL is not reachable. Call it before
// Start, so that the schema outlives the service.
func Database(t testing.TB, engine string) string {
	t.Helper()
	if engine == "sqlite" {
		return ""
	}
	base := pgtest.URL()
	pgtest.Check(t)
	schema := pgtest.NewSchema(t, "coffer_test")
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("COFFER_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
