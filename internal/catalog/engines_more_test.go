package catalog

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

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
func TestUniqueViolationByCode(t *testing.T) { forEachEngine(t, testUniqueViolationByCode) }

func testUniqueViolationByCode(t *testing.T, open opener) {
	db := open(t)
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	if err := db.CreateVault(ctx, Vault{Name: "v", ID: "id-v", ARN: "arn:v", CreatedAt: base}); err != nil {
		t.Fatal(err)
	}
	if err := db.InsertBackupJob(ctx, BackupJob{ID: "J1", VaultName: "v", IdempotencyToken: "tok", CreatedAt: base}, nil); err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) func() error {
		return func() error { _, err := db.db.ExecContext(ctx, q, args...); return err }
	}
	tests := []struct {
		name   string
		do     func() error
		unique bool
	}{
		{"primary key", exec(`INSERT INTO vaults (name, id, arn, created_at) VALUES (?, ?, ?, ?)`, "v", "id-other", "arn", 1), true},
		{"unique column", exec(`INSERT INTO vaults (name, id, arn, created_at) VALUES (?, ?, ?, ?)`, "w", "id-v", "arn", 1), true},
		{"partial unique index", func() error {
			return db.InsertBackupJob(ctx, BackupJob{ID: "J2", VaultName: "v", IdempotencyToken: "tok", CreatedAt: base}, nil)
		}, true},
		{"not null", exec(`INSERT INTO vaults (name, id, arn, created_at) VALUES (?, ?, NULL, ?)`, "x", "id-x", 1), false},
		{"foreign key", exec(`INSERT INTO recovery_points (arn, id, vault_name, resource_arn, resource_type, status, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, "rp", "rp", "no-such-vault", "arn:aws:s3:::b", "S3", "COMPLETED", 1), false},
		{"syntax", exec(`INSERT INTO nowhere VALUES (?)`, 1), false},
	}
	for _, tt := range tests {
		err := tt.do()
		if err == nil {
			t.Fatalf("%s: no error", tt.name)
		}
		if got := isUniqueViolation(err) || errors.Is(err, ErrExists); got != tt.unique {
			t.Errorf("%s: unique violation %v, want %v (%v)", tt.name, got, tt.unique, err)
		}
	}
	if err := db.CreateVault(ctx, Vault{Name: "v", ID: "id-2", ARN: "arn:v", CreatedAt: base}); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate vault: %v", err)
	}
}

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

// TestTxPgx: work done through Tx.Pgx is part of the catalog's
// transaction, committed and rolled back with it; on SQLite Pgx refuses.
func TestTxPgx(t *testing.T) { forEachEngine(t, testTxPgx) }

func testTxPgx(t *testing.T, open opener) {
	db := open(t)
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	tag := func(arn string, fail error) TxFunc {
		return func(tx *Tx) error {
			err := tx.Pgx(func(ptx pgx.Tx) error {
				var n int
				// The job inserted in this transaction is visible here.
				if err := ptx.QueryRow(ctx, `SELECT COUNT(*) FROM backup_jobs WHERE resource_arn = $1`, arn).Scan(&n); err != nil || n != 1 {
					return fmt.Errorf("job seen through pgx: %d %v", n, err)
				}
				_, err := ptx.Exec(ctx, `INSERT INTO resource_tags (resource_arn, tag_key, tag_value) VALUES ($1, 'k', 'v')`, arn)
				if err == nil && ptx.Commit(ctx) == nil {
					return errors.New("joined transaction committed by its caller")
				}
				return err
			})
			if db.Engine() == SQLite {
				if !errors.Is(err, ErrNotPostgres) {
					return fmt.Errorf("Pgx on SQLite: %v", err)
				}
				_, err = tx.SQL().ExecContext(ctx, `INSERT INTO resource_tags (resource_arn, tag_key, tag_value) VALUES (?, 'k', 'v')`, arn)
			}
			if err != nil {
				return err
			}
			return fail
		}
	}
	boom := errors.New("boom")
	if err := db.InsertBackupJob(ctx, BackupJob{ID: "A", ResourceARN: "arn:a", CreatedAt: base}, tag("arn:a", nil)); err != nil {
		t.Fatal(err)
	}
	if err := db.InsertBackupJob(ctx, BackupJob{ID: "B", ResourceARN: "arn:b", CreatedAt: base}, tag("arn:b", boom)); !errors.Is(err, boom) {
		t.Fatalf("failing TxFunc: %v", err)
	}
	for arn, want := range map[string]int{"arn:a": 1, "arn:b": 0} {
		tags, err := db.Tags(ctx, arn)
		if err != nil || len(tags) != want {
			t.Errorf("%s: tags %v (%v), want %d", arn, tags, err, want)
		}
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
