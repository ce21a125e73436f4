package jobstore

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/jackc/pgx/v5"
)

// TestTxPgx: work done through Tx.Pgx is part of the catalog's
// transaction, committed and rolled back with it; on SQLite Pgx refuses.
func TestTxPgx(t *testing.T) { forEachEngine(t, testTxPgx) }

func testTxPgx(t *testing.T, open opener) {
	db := open(t)
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	tag := func(arn string, fail error) catalog.TxFunc {
		return func(tx *catalog.Tx) error {
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
			if db.Engine() == catalog.SQLite {
				if !errors.Is(err, catalog.ErrNotPostgres) {
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
