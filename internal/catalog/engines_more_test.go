package catalog

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/pgtest"
)

func TestRebind(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT a FROM t WHERE a = ? AND b IN (?, ?)", "SELECT a FROM t WHERE a = $1 AND b IN ($2, $3)"},
		{"SELECT '?', \"q?\" FROM t WHERE a = ?", "SELECT '?', \"q?\" FROM t WHERE a = $1"},
		{"SELECT 'it''s ?' WHERE a = ?", "SELECT 'it''s ?' WHERE a = $1"},
		{"SELECT ? -- why?\nFROM t WHERE b = ?", "SELECT $1 -- why?\nFROM t WHERE b = $2"},
		{"SELECT /* ? */ ?", "SELECT /* ? */ $1"},
		{"SELECT '?", "SELECT '?"},
	}
	for _, tt := range tests {
		if got := rebind(tt.in); got != tt.want {
			t.Errorf("rebind(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestUniqueViolationByCode: a primary key, a UNIQUE column and a partial
// unique index map to ErrExists on both engines; other constraint errors
// do not.
// TestKeyFingerprint: the first fingerprint sticks, also across reopening;
// another one is refused.
func TestKeyFingerprint(t *testing.T) { forEachEngine(t, testKeyFingerprint) }

func testKeyFingerprint(t *testing.T, open opener) {
	db := open(t)
	if err := db.CheckKeyFingerprint(ctx, "aaaa"); err != nil {
		t.Fatalf("first start: %v", err)
	}
	if err := db.CheckKeyFingerprint(ctx, "aaaa"); err != nil {
		t.Fatalf("same key again: %v", err)
	}
	again := open(t)
	if err := again.CheckKeyFingerprint(ctx, "bbbb"); !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("other key: %v, want ErrKeyMismatch", err)
	}
	if err := again.CheckKeyFingerprint(ctx, "aaaa"); err != nil {
		t.Fatalf("first key after a refused one: %v", err)
	}
}

// TestConcurrentMigrations: processes opening a new PostgreSQL catalog at
// once all succeed (the advisory lock serialises the migrations).
func TestConcurrentMigrations(t *testing.T) {
	schema := pgtest.NewSchema(t, "catalog_test")
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			db, err := OpenPostgres(cctx, pgtest.URL(), PostgresOptions{Schema: schema})
			if err == nil {
				err = db.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent open: %v", err)
		}
	}
}
