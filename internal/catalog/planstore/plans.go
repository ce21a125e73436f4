package planstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/internal/catsql"
)

// Plan is a backup plan's catalog entry; Document is the JSON plan
// document of its current version.
type Plan struct {
	ID               string
	ARN              string
	Name             string
	VersionID        string
	CreatorRequestID string
	CreatedAt        time.Time // of the current version
	DeletedAt        time.Time
	LastExecutionAt  time.Time
	Document         string
}

// PlanVersion is one stored version of a plan.
type PlanVersion struct {
	PlanID, VersionID, Document string
	CreatedAt                   time.Time
}

const planCols = `p.id, p.arn, p.name, p.version_id, p.creator_request_id, v.created_at, p.deleted_at, p.last_execution_at, v.document`

const planFrom = ` FROM backup_plans p JOIN backup_plan_versions v ON v.plan_id = p.id AND v.version_id = p.version_id`

func scanPlan(s catsql.Scanner) (Plan, error) {
	var p Plan
	var created, deleted, last int64
	err := s.Scan(&p.ID, &p.ARN, &p.Name, &p.VersionID, &p.CreatorRequestID, &created, &deleted, &last, &p.Document)
	p.CreatedAt, p.DeletedAt, p.LastExecutionAt = catsql.FromNanos(created), catsql.FromNanos(deleted), catsql.FromNanos(last)
	return p, err
}

// CreatePlan inserts a plan and its first version.
func (s *Store) CreatePlan(ctx context.Context, p Plan) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO backup_plans (id, arn, name, version_id, creator_request_id, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, p.ID, p.ARN, p.Name, p.VersionID, p.CreatorRequestID, catsql.ToNanos(p.CreatedAt)); err != nil {
			return fmt.Errorf("insert plan %s: %w", p.ID, err)
		}
		return insertVersion(ctx, tx, p)
	})
}

func insertVersion(ctx context.Context, tx *sql.Tx, p Plan) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO backup_plan_versions (plan_id, version_id, document, created_at) VALUES (?, ?, ?, ?)`,
		p.ID, p.VersionID, p.Document, catsql.ToNanos(p.CreatedAt)); err != nil {
		return fmt.Errorf("insert plan %s version %s: %w", p.ID, p.VersionID, err)
	}
	return nil
}

// UpdatePlan stores a new version of a live plan and makes it current.
func (s *Store) UpdatePlan(ctx context.Context, p Plan) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE backup_plans SET version_id = ?, name = ? WHERE id = ? AND deleted_at = 0`, p.VersionID, p.Name, p.ID)
		if err != nil {
			return fmt.Errorf("update plan %s: %w", p.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("backup plan %q: %w", p.ID, catalog.ErrNotFound)
		}
		return insertVersion(ctx, tx, p)
	})
}

// Plan returns a plan at its current version, or at versionID if given.
// Deleted plans are returned too (DeletedAt set).
func (s *Store) Plan(ctx context.Context, id, versionID string) (Plan, error) {
	q := `SELECT ` + planCols + planFrom + ` WHERE p.id = ?`
	args := []any{id}
	if versionID != "" {
		q = `SELECT p.id, p.arn, p.name, v.version_id, p.creator_request_id, v.created_at, p.deleted_at, p.last_execution_at, v.document
			FROM backup_plans p JOIN backup_plan_versions v ON v.plan_id = p.id WHERE p.id = ? AND v.version_id = ?`
		args = append(args, versionID)
	}
	p, err := scanPlan(s.db.SQL().QueryRowContext(ctx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Plan{}, fmt.Errorf("backup plan %q (version %q): %w", id, versionID, catalog.ErrNotFound)
	}
	if err != nil {
		return Plan{}, fmt.Errorf("read plan %q: %w", id, err)
	}
	return p, nil
}

// ListPlans lists plans by creation, newest first.
func (s *Store) ListPlans(ctx context.Context, includeDeleted bool, p catalog.Page) ([]Plan, string, error) {
	q := `SELECT ` + planCols + planFrom
	if !includeDeleted {
		q += ` WHERE p.deleted_at = 0`
	}
	return catalog.QueryPage(ctx, s.db, "backup plans", q+` ORDER BY p.created_at DESC, p.id`, nil, p, scanPlan)
}

// ListPlanVersions lists a plan's versions, newest first.
func (s *Store) ListPlanVersions(ctx context.Context, id string, p catalog.Page) ([]Plan, string, error) {
	q := `SELECT p.id, p.arn, p.name, v.version_id, p.creator_request_id, v.created_at, p.deleted_at, p.last_execution_at, v.document
		FROM backup_plans p JOIN backup_plan_versions v ON v.plan_id = p.id WHERE p.id = ? ORDER BY v.created_at DESC, v.version_id`
	return catalog.QueryPage(ctx, s.db, "plan versions", q, []any{id}, p, scanPlan)
}

// DeletePlan marks a plan deleted; its versions stay for ListBackupPlans
// with includeDeleted.
func (s *Store) DeletePlan(ctx context.Context, id string, at time.Time) error {
	res, err := s.db.SQL().ExecContext(ctx, `UPDATE backup_plans SET deleted_at = ? WHERE id = ? AND deleted_at = 0`, catsql.ToNanos(at), id)
	if err != nil {
		return fmt.Errorf("delete plan %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("backup plan %q: %w", id, catalog.ErrNotFound)
	}
	return nil
}

// Selection is a backup selection's catalog entry; Document is its JSON.
type Selection struct {
	ID, PlanID, Name, CreatorRequestID, Document string
	CreatedAt                                    time.Time
}

func scanSelection(s catsql.Scanner) (Selection, error) {
	var sel Selection
	var created int64
	err := s.Scan(&sel.ID, &sel.PlanID, &sel.Name, &sel.CreatorRequestID, &sel.Document, &created)
	sel.CreatedAt = catsql.FromNanos(created)
	return sel, err
}

const selectionCols = `id, plan_id, name, creator_request_id, document, created_at`

// CreateSelection inserts a selection.
func (st *Store) CreateSelection(ctx context.Context, s Selection) error {
	if _, err := st.db.SQL().ExecContext(ctx, `INSERT INTO backup_selections (`+selectionCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		s.ID, s.PlanID, s.Name, s.CreatorRequestID, s.Document, catsql.ToNanos(s.CreatedAt)); err != nil {
		return fmt.Errorf("insert selection %s: %w", s.ID, err)
	}
	return nil
}

// Selection returns one selection of a plan.
func (st *Store) Selection(ctx context.Context, planID, id string) (Selection, error) {
	s, err := scanSelection(st.db.SQL().QueryRowContext(ctx, `SELECT `+selectionCols+` FROM backup_selections WHERE plan_id = ? AND id = ?`, planID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Selection{}, fmt.Errorf("backup selection %q of plan %q: %w", id, planID, catalog.ErrNotFound)
	}
	if err != nil {
		return Selection{}, fmt.Errorf("read selection %q: %w", id, err)
	}
	return s, nil
}

// ListSelections lists a plan's selections, oldest first.
func (s *Store) ListSelections(ctx context.Context, planID string, p catalog.Page) ([]Selection, string, error) {
	return catalog.QueryPage(ctx, s.db, "selections", `SELECT `+selectionCols+` FROM backup_selections WHERE plan_id = ? ORDER BY created_at, id`,
		[]any{planID}, p, scanSelection)
}

// DeleteSelection removes a selection.
func (s *Store) DeleteSelection(ctx context.Context, planID, id string) error {
	res, err := s.db.SQL().ExecContext(ctx, `DELETE FROM backup_selections WHERE plan_id = ? AND id = ?`, planID, id)
	if err != nil {
		return fmt.Errorf("delete selection %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("backup selection %q of plan %q: %w", id, planID, catalog.ErrNotFound)
	}
	return nil
}
