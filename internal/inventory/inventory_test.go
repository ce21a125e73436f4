package inventory

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/capturestore"
	"github.com/cofferbackup/coffer/internal/catalog/holdstore"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/clock"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vaultstore"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// newInventory opens an inventory over a real SQLite catalog and
// filesystem vault store in dir; calling it again on the same dir is a
// restart.
func newInventory(t *testing.T, dir string, targeted func(context.Context, string) error) (*Inventory, *catalog.DB) {
	t.Helper()
	ctx := context.Background()
	db, err := catalog.OpenSQLite(ctx, filepath.Join(dir, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	store, err := vaultstore.NewFS(filepath.Join(dir, "vaults"), vault.Options{Safety: vault.SafetySoleWriter})
	if err != nil {
		t.Fatal(err)
	}
	inv := New(Config{DB: db, Jobs: jobstore.New(db), Holds: holdstore.New(db), Captures: capturestore.New(db), Store: store, Secret: func(id string) string { return "secret-" + id },
		Names: vocab.Names{Region: "us-east-1", AccountID: "000000000000"}, Clock: clock.NewFake(time.Unix(1_800_000_000, 0)),
		Log: slog.New(slog.DiscardHandler), Targeted: targeted})
	t.Cleanup(func() {
		inv.Close(context.Background())
		db.Close()
	})
	return inv, db
}

// TestVaultLifecycle creates vaults, loses the catalog and rebuilds it
// from the vault store, refuses to delete a vault a plan targets, and
// deletes one with its files.
func TestVaultLifecycle(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	errTargeted := errors.New("targeted by a plan")
	targeted := func(_ context.Context, name string) error {
		if name == "planned" {
			return errTargeted
		}
		return nil
	}
	inv, _ := newInventory(t, dir, targeted)
	for _, name := range []string{"planned", "spare"} {
		if _, err := inv.CreateVault(ctx, CreateVaultInput{Name: name, CreatorRequestID: "req-" + name}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := inv.CreateVault(ctx, CreateVaultInput{Name: "spare"}); !errors.Is(err, vocab.ErrAlreadyExists) {
		t.Fatalf("second create of spare: %v, want ErrAlreadyExists", err)
	}
	if v, err := inv.CreateVault(ctx, CreateVaultInput{Name: "spare", CreatorRequestID: "req-spare"}); err != nil || v.Name != "spare" {
		t.Fatalf("idempotent create: %v %v", v, err)
	}
	if _, err := inv.CreateVault(ctx, CreateVaultInput{Name: "x"}); !errors.Is(err, vocab.ErrInvalidParameter) {
		t.Fatalf("create of a one-letter name: %v", err)
	}
	inv.Close(ctx)

	// The catalog is lost: a new one is rebuilt from the vaults.
	for _, f := range []string{"catalog.db", "catalog.db-wal", "catalog.db-shm"} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	inv, db := newInventory(t, dir, targeted)
	if err := inv.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	all, err := db.AllVaults(ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("vaults after the rebuild: %v %v", all, err)
	}
	spare, err := inv.Vault(ctx, "spare")
	if err != nil || spare.CreatorRequestID != "req-spare" || spare.ARN != "arn:aws:backup:us-east-1:000000000000:backup-vault:spare" {
		t.Fatalf("spare after the rebuild: %+v %v", spare, err)
	}
	if err := inv.DeleteVault(ctx, "planned"); !errors.Is(err, errTargeted) {
		t.Fatalf("delete of a planned vault: %v", err)
	}
	if err := inv.DeleteVault(ctx, "spare"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "vaults", spare.ID)); !os.IsNotExist(err) {
		t.Fatalf("files of the deleted vault: %v", err)
	}
	if _, err := inv.Vault(ctx, "spare"); !errors.Is(err, vocab.ErrNotFound) {
		t.Fatalf("deleted vault: %v", err)
	}
}
