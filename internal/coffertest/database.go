package coffertest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Engines are the catalog databases tests run on: "sqlite" and "postgres".
var Engines = []string{"sqlite", "postgres"}

const defaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// PostgresURL is the PostgreSQL server tests use: COFFER_TEST_POSTGRES,
// else a local one.
func PostgresURL() string {
	if u := os.Getenv("COFFER_TEST_POSTGRES"); u != "" {
		return u
	}
	return defaultPostgres
}

var schemaSeq atomic.Int64

// Database returns Options.Database for engine: "" for SQLite, else the
// URL of a fresh PostgreSQL schema (search_path), dropped when the test
// ends. It fails the test if PostgreSQL is not reachable. Call it before
// Start, so that the schema outlives the service.
func Database(t testing.TB, engine string) string {
	t.Helper()
	if engine == "sqlite" {
		return ""
	}
	base := PostgresURL()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("PostgreSQL is not reachable at %s: %v\nStart it (trust auth, database test) with "+
			"`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, "+
			"or point COFFER_TEST_POSTGRES at another server", base, err)
	}
	_ = conn.Close(ctx)
	schema := fmt.Sprintf("coffer_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, schemaSeq.Add(1))
	t.Cleanup(func() { dropSchema(t, base, schema) })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("COFFER_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func dropSchema(t testing.TB, base, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Logf("drop schema %s: %v", schema, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
		t.Logf("drop schema %s: %v", schema, err)
	}
}
