package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog/internal/catsql"
)

// Vault is a backup vault's catalog entry.
type Vault struct {
	Name             string
	ID               string // directory id, stable across renames of nothing
	ARN              string
	CreatorRequestID string
	EncryptionKeyARN string
	Tags             map[string]string
	CreatedAt        time.Time
	VaultType        string     // "" for BACKUP_VAULT
	RecoveryPoints   int64      // filled by reads
	Lock             *VaultLock // filled by reads; nil without a lock
	// StorageLocation is s3://CONNECTION/BUCKET[/PREFIX] for a vault whose
	// blobs live in S3 (filled by the inventory from the vault store).
	StorageLocation string
}

// VaultLock is a vault's lock configuration (internal/vaultlock owns its
// rules). Zero days are unset; a zero LockDate is governance mode.
type VaultLock struct {
	VaultName        string
	MinRetentionDays int64
	MaxRetentionDays int64
	LockDate         time.Time
	UpdatedAt        time.Time
}

const vaultCols = `name, id, arn, creator_request_id, encryption_key_arn, tags, created_at, vault_type,
	(SELECT COUNT(*) FROM recovery_points r WHERE r.vault_name = vaults.name),
	COALESCE((SELECT min_retention_days FROM vault_locks l WHERE l.vault_name = vaults.name), -1),
	COALESCE((SELECT max_retention_days FROM vault_locks l WHERE l.vault_name = vaults.name), 0),
	COALESCE((SELECT lock_date FROM vault_locks l WHERE l.vault_name = vaults.name), 0)`

func scanVault(s catsql.Scanner) (Vault, error) {
	var v Vault
	var tags string
	var created, lockDate int64
	l := VaultLock{}
	err := s.Scan(&v.Name, &v.ID, &v.ARN, &v.CreatorRequestID, &v.EncryptionKeyARN, &tags, &created, &v.VaultType, &v.RecoveryPoints,
		&l.MinRetentionDays, &l.MaxRetentionDays, &lockDate)
	v.Tags = catsql.FromJSONMap(tags)
	v.CreatedAt = catsql.FromNanos(created)
	if l.MinRetentionDays >= 0 { // -1: no lock row
		l.VaultName, l.LockDate = v.Name, catsql.FromNanos(lockDate)
		v.Lock = &l
	}
	return v, err
}

// CreateVault inserts v; ErrExists if the name is taken.
func (c *DB) CreateVault(ctx context.Context, v Vault) error {
	_, err := c.db.ExecContext(ctx, `INSERT INTO vaults (name, id, arn, creator_request_id, encryption_key_arn, tags, created_at, vault_type)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, v.Name, v.ID, v.ARN, v.CreatorRequestID, v.EncryptionKeyARN, catsql.MustJSON(v.Tags), catsql.ToNanos(v.CreatedAt), v.VaultType)
	if IsUniqueViolation(err) {
		return fmt.Errorf("vault %q: %w", v.Name, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("insert vault %q: %w", v.Name, err)
	}
	return nil
}

// Vault returns one vault; ErrNotFound if absent.
func (c *DB) Vault(ctx context.Context, name string) (Vault, error) {
	v, err := scanVault(c.db.QueryRowContext(ctx, `SELECT `+vaultCols+` FROM vaults WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return Vault{}, fmt.Errorf("vault %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return Vault{}, fmt.Errorf("read vault %q: %w", name, err)
	}
	return v, nil
}

// ListVaults returns vaults by name.
func (c *DB) ListVaults(ctx context.Context, p Page) ([]Vault, string, error) {
	return QueryPage(ctx, c, "vaults", `SELECT `+vaultCols+` FROM vaults ORDER BY name`, nil, p, scanVault)
}

// AllVaults returns every vault (for startup reconciliation).
func (c *DB) AllVaults(ctx context.Context) ([]Vault, error) {
	var all []Vault
	p := Page{Max: 1000}
	for {
		vs, tok, err := c.ListVaults(ctx, p)
		if err != nil {
			return nil, err
		}
		all = append(all, vs...)
		if tok == "" {
			return all, nil
		}
		p.Token = tok
	}
}

// DeleteVault removes a vault's entry.
func (c *DB) DeleteVault(ctx context.Context, name string) error {
	res, err := c.db.ExecContext(ctx, `DELETE FROM vaults WHERE name = ?`, name)
	if err != nil {
		return fmt.Errorf("delete vault %q: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("vault %q: %w", name, ErrNotFound)
	}
	return nil
}
