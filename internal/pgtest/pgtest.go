package pgtest

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the server of the project's machines and CI: trust auth,
// database test.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// URL is the PostgreSQL server tests use: COFFER_TEST_POSTGRES, else
// DefaultURL.
func URL() string {
	if u := os.Getenv("COFFER_TEST_POSTGRES"); u != "" {
		return u
	}
	return DefaultURL
}

// Unreachable is the failure message for a server that does not answer.
func Unreachable(url string, err error) string {
	return fmt.Sprintf("PostgreSQL is not reachable at %s: %v\nStart it (trust auth, database test) with "+
		"`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, "+
		"or point COFFER_TEST_POSTGRES at another server", url, err)
}

// Check fails the test unless the server at URL() answers.
func Check(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, URL())
	if err != nil {
		t.Fatal(Unreachable(URL(), err))
	}
	_ = conn.Close(ctx)
}

var seq atomic.Int64

// NewSchema names a fresh schema (prefix, process, time, sequence), which
// is dropped with everything in it when the test ends. The caller (or the
// code under test) creates it.
func NewSchema(t testing.TB, prefix string) string {
	t.Helper()
	schema := fmt.Sprintf("%s_%d_%d_%d", prefix, os.Getpid(), time.Now().UnixNano()%1e9, seq.Add(1))
	t.Cleanup(func() { DropSchema(t, schema) })
	return schema
}

// DropSchema drops schema and everything in it, logging (not failing on)
// an error: cleanup must not hide the test's own result.
func DropSchema(t testing.TB, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, URL())
	if err != nil {
		t.Logf("drop schema %s: %v", schema, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
		t.Logf("drop schema %s: %v", schema, err)
	}
}
