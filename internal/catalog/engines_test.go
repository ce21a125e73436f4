package catalog

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

const defaultTestPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// TestPostgresURL is the PostgreSQL server tests use: COFFER_TEST_POSTGRES,
// else a local one.
func testPostgresURL() string {
	if u := os.Getenv("COFFER_TEST_POSTGRES"); u != "" {
		return u
	}
	return defaultTestPostgres
}

var schemaSeq atomic.Int64

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
	url, schema := testPostgresURL(), newTestSchema(t)
	return func(t *testing.T) *DB {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db, err := OpenPostgres(ctx, url, PostgresOptions{Schema: schema})
		if err != nil {
			t.Fatalf("%v\nPostgreSQL must run at %s (trust auth, database test): start it with "+
				"`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, "+
				"or point COFFER_TEST_POSTGRES at another server", err, url)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
}

// newTestSchema names a fresh PostgreSQL schema, dropped after the test.
func newTestSchema(t *testing.T) string {
	schema := fmt.Sprintf("catalog_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, schemaSeq.Add(1))
	t.Cleanup(func() { dropTestSchema(t, testPostgresURL(), schema) })
	return schema
}

func dropTestSchema(t *testing.T, url, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Logf("drop schema %s: %v", schema, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
		t.Logf("drop schema %s: %v", schema, err)
	}
}
