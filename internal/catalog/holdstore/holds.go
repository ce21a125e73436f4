package holdstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/internal/catsql"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// PutVaultLock writes a vault's lock configuration, replacing any.
func (s *Store) PutVaultLock(ctx context.Context, l catalog.VaultLock) error {
	_, err := s.db.SQL().ExecContext(ctx, `INSERT INTO vault_locks (vault_name, min_retention_days, max_retention_days, lock_date, updated_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (vault_name) DO UPDATE SET min_retention_days = excluded.min_retention_days,
		max_retention_days = excluded.max_retention_days, lock_date = excluded.lock_date, updated_at = excluded.updated_at`,
		l.VaultName, l.MinRetentionDays, l.MaxRetentionDays, catsql.ToNanos(l.LockDate), catsql.ToNanos(l.UpdatedAt))
	if err != nil {
		return fmt.Errorf("put lock of vault %q: %w", l.VaultName, err)
	}
	return nil
}

// VaultLock returns a vault's lock configuration and whether it has one.
func (s *Store) VaultLock(ctx context.Context, vault string) (catalog.VaultLock, bool, error) {
	l := catalog.VaultLock{VaultName: vault}
	var lockDate, updated int64
	err := s.db.SQL().QueryRowContext(ctx, `SELECT min_retention_days, max_retention_days, lock_date, updated_at FROM vault_locks WHERE vault_name = ?`,
		vault).Scan(&l.MinRetentionDays, &l.MaxRetentionDays, &lockDate, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return catalog.VaultLock{}, false, nil
	}
	if err != nil {
		return catalog.VaultLock{}, false, fmt.Errorf("read lock of vault %q: %w", vault, err)
	}
	l.LockDate, l.UpdatedAt = catsql.FromNanos(lockDate), catsql.FromNanos(updated)
	return l, true, nil
}

// DeleteVaultLock removes a vault's lock configuration, if any.
func (s *Store) DeleteVaultLock(ctx context.Context, vault string) error {
	if _, err := s.db.SQL().ExecContext(ctx, `DELETE FROM vault_locks WHERE vault_name = ?`, vault); err != nil {
		return fmt.Errorf("delete lock of vault %q: %w", vault, err)
	}
	return nil
}

// Legal hold statuses (AWS's LegalHoldStatus; coffer never leaves a hold
// CREATING or CANCELING: each change is one transaction).
const (
	HoldActive   = "ACTIVE"
	HoldCanceled = "CANCELED"
)

// HoldSelection is a legal hold's RecoveryPointSelection: a recovery point
// matches when it is in one of VaultNames (any if empty), of one of
// ResourceARNs (any if empty) and created in [From, To] (open if zero).
type HoldSelection struct {
	VaultNames   []string  `json:"vault_names,omitempty"`
	ResourceARNs []string  `json:"resource_arns,omitempty"`
	From         time.Time `json:"from,omitzero"`
	To           time.Time `json:"to,omitzero"`
}

// LegalHold is one legal hold.
type LegalHold struct {
	ID, ARN, Title, Description string
	Status, CancelDescription   string
	Selection                   HoldSelection
	IdempotencyToken            string
	Tags                        map[string]string
	CreatedAt, CancelledAt      time.Time
	RetainRecordUntil           time.Time
}

// HeldPoint is a recovery point a legal hold holds.
type HeldPoint struct {
	HoldID, RecoveryPointARN, VaultName, ResourceARN, ResourceType string
}

const holdCols = `id, arn, title, description, status, cancel_description, selection, idempotency_token, tags,
	created_at, cancelled_at, retain_record_until`

func scanHold(s catsql.Scanner) (LegalHold, error) {
	var h LegalHold
	var sel, tags string
	var created, cancelled, retain int64
	err := s.Scan(&h.ID, &h.ARN, &h.Title, &h.Description, &h.Status, &h.CancelDescription, &sel, &h.IdempotencyToken, &tags,
		&created, &cancelled, &retain)
	if err != nil {
		return h, err
	}
	if err := json.Unmarshal([]byte(sel), &h.Selection); err != nil {
		return h, fmt.Errorf("legal hold %q: selection: %w", h.ID, err)
	}
	h.Tags = catsql.FromJSONMap(tags)
	h.CreatedAt, h.CancelledAt, h.RetainRecordUntil = catsql.FromNanos(created), catsql.FromNanos(cancelled), catsql.FromNanos(retain)
	return h, nil
}

// CreateLegalHold inserts h and, in the same transaction, holds the
// recovery points its selection matches now. It returns how many.
func (s *Store) CreateLegalHold(ctx context.Context, h LegalHold) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO legal_holds (`+holdCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			h.ID, h.ARN, h.Title, h.Description, h.Status, h.CancelDescription, catsql.MustJSON(h.Selection), h.IdempotencyToken,
			catsql.MustJSON(h.Tags), catsql.ToNanos(h.CreatedAt), catsql.ToNanos(h.CancelledAt), catsql.ToNanos(h.RetainRecordUntil)); err != nil {
			if catalog.IsUniqueViolation(err) {
				return fmt.Errorf("legal hold %q: %w", h.ID, catalog.ErrExists)
			}
			return fmt.Errorf("insert legal hold %q: %w", h.ID, err)
		}
		w := selectionWhere(h.Selection)
		res, err := tx.ExecContext(ctx, `INSERT INTO legal_hold_points (hold_id, rp_arn, vault_name, resource_arn, resource_type)
			SELECT ?, arn, vault_name, resource_arn, resource_type FROM recovery_points`+w.SQL(), append([]any{h.ID}, w.Args...)...)
		if err != nil {
			return fmt.Errorf("hold the recovery points of legal hold %q: %w", h.ID, err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

func selectionWhere(s HoldSelection) catsql.Where {
	var w catsql.Where
	w.In("vault_name", s.VaultNames)
	w.In("resource_arn", s.ResourceARNs)
	if !s.From.IsZero() {
		w.Add("created_at >= ?", s.From.UnixNano())
	}
	if !s.To.IsZero() {
		w.Add("created_at <= ?", s.To.UnixNano())
	}
	return w
}

// LegalHold returns one legal hold; ErrNotFound if absent.
func (s *Store) LegalHold(ctx context.Context, id string) (LegalHold, error) {
	h, err := scanHold(s.db.SQL().QueryRowContext(ctx, `SELECT `+holdCols+` FROM legal_holds WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return LegalHold{}, fmt.Errorf("legal hold %q: %w", id, catalog.ErrNotFound)
	}
	if err != nil {
		return LegalHold{}, fmt.Errorf("read legal hold %q: %w", id, err)
	}
	return h, nil
}

// LegalHoldByToken returns the hold created with an idempotency token.
func (s *Store) LegalHoldByToken(ctx context.Context, token string) (LegalHold, bool, error) {
	h, err := scanHold(s.db.SQL().QueryRowContext(ctx, `SELECT `+holdCols+` FROM legal_holds WHERE idempotency_token = ? ORDER BY created_at LIMIT 1`, token))
	if errors.Is(err, sql.ErrNoRows) {
		return LegalHold{}, false, nil
	}
	if err != nil {
		return LegalHold{}, false, fmt.Errorf("read legal hold by token: %w", err)
	}
	return h, true, nil
}

// ListLegalHolds returns legal holds oldest first.
func (s *Store) ListLegalHolds(ctx context.Context, p catalog.Page) ([]LegalHold, string, error) {
	return catalog.QueryPage(ctx, s.db, "legal holds", `SELECT `+holdCols+` FROM legal_holds ORDER BY created_at, id`, nil, p, scanHold)
}

// CancelLegalHold marks an active hold CANCELED; ErrNotFound if there is
// no such hold, vocab.ErrInvalidState if it is not active.
func (s *Store) CancelLegalHold(ctx context.Context, id, description string, at, retainUntil time.Time) error {
	res, err := s.db.SQL().ExecContext(ctx, `UPDATE legal_holds SET status = ?, cancel_description = ?, cancelled_at = ?, retain_record_until = ?
		WHERE id = ? AND status = ?`, HoldCanceled, description, catsql.ToNanos(at), catsql.ToNanos(retainUntil), id, HoldActive)
	if err != nil {
		return fmt.Errorf("cancel legal hold %q: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	if _, err := s.LegalHold(ctx, id); err != nil {
		return err
	}
	return fmt.Errorf("legal hold %q is not active: %w", id, vocab.ErrInvalidState)
}

// HeldPoints lists the recovery points of a hold, by ARN.
func (s *Store) HeldPoints(ctx context.Context, holdID string, p catalog.Page) ([]HeldPoint, string, error) {
	return catalog.QueryPage(ctx, s.db, "held recovery points", `SELECT hold_id, rp_arn, vault_name, resource_arn, resource_type
		FROM legal_hold_points WHERE hold_id = ? ORDER BY rp_arn`, []any{holdID}, p, func(s catsql.Scanner) (HeldPoint, error) {
		var h HeldPoint
		err := s.Scan(&h.HoldID, &h.RecoveryPointARN, &h.VaultName, &h.ResourceARN, &h.ResourceType)
		return h, err
	})
}

// ActiveHolds returns the ids of the active holds on a recovery point.
func (s *Store) ActiveHolds(ctx context.Context, rpARN string) ([]string, error) {
	rows, err := s.db.SQL().QueryContext(ctx, `SELECT p.hold_id FROM legal_hold_points p JOIN legal_holds h ON h.id = p.hold_id
		WHERE p.rp_arn = ? AND h.status = ? ORDER BY p.hold_id`, rpARN, HoldActive)
	if err != nil {
		return nil, fmt.Errorf("legal holds of %q: %w", rpARN, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("legal holds of %q: %w", rpARN, err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// RestoreLegalHold records hold h and its points as a vault recorded
// them (a rebuild from the vaults, one vault at a time): a hold already
// there gains the points, and stays ACTIVE if any vault says so.
func (s *Store) RestoreLegalHold(ctx context.Context, h LegalHold, points []HeldPoint) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO legal_holds (`+holdCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET status = CASE WHEN excluded.status = 'ACTIVE' THEN 'ACTIVE' ELSE legal_holds.status END`,
			h.ID, h.ARN, h.Title, h.Description, h.Status, h.CancelDescription, catsql.MustJSON(h.Selection), h.IdempotencyToken,
			catsql.MustJSON(h.Tags), catsql.ToNanos(h.CreatedAt), catsql.ToNanos(h.CancelledAt), catsql.ToNanos(h.RetainRecordUntil)); err != nil {
			return fmt.Errorf("restore legal hold %q: %w", h.ID, err)
		}
		for _, p := range points {
			if _, err := tx.ExecContext(ctx, `INSERT INTO legal_hold_points (hold_id, rp_arn, vault_name, resource_arn, resource_type)
				VALUES (?, ?, ?, ?, ?) ON CONFLICT (hold_id, rp_arn) DO NOTHING`, h.ID, p.RecoveryPointARN, p.VaultName, p.ResourceARN, p.ResourceType); err != nil {
				return fmt.Errorf("restore legal hold %q: %w", h.ID, err)
			}
		}
		return nil
	})
}
