package jobstore

import (
	"errors"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
)

func TestUniqueViolationByCode(t *testing.T) { forEachEngine(t, testUniqueViolationByCode) }

func testUniqueViolationByCode(t *testing.T, open opener) {
	db := open(t)
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	if err := db.CreateVault(ctx, catalog.Vault{Name: "v", ID: "id-v", ARN: "arn:v", CreatedAt: base}); err != nil {
		t.Fatal(err)
	}
	if err := db.InsertBackupJob(ctx, BackupJob{ID: "J1", VaultName: "v", IdempotencyToken: "tok", CreatedAt: base}, nil); err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) func() error {
		return func() error { _, err := db.SQL().ExecContext(ctx, q, args...); return err }
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
		if got := catalog.IsUniqueViolation(err) || errors.Is(err, catalog.ErrExists); got != tt.unique {
			t.Errorf("%s: unique violation %v, want %v (%v)", tt.name, got, tt.unique, err)
		}
	}
	if err := db.CreateVault(ctx, catalog.Vault{Name: "v", ID: "id-2", ARN: "arn:v", CreatedAt: base}); !errors.Is(err, catalog.ErrExists) {
		t.Fatalf("duplicate vault: %v", err)
	}
}
