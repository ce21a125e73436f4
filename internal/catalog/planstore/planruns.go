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

// PlanRun records that the scheduler handled one scheduled run of a rule,
// so that a restart neither repeats nor forgets it.
type PlanRun struct {
	PlanID, RuleID string
	ScheduledAt    time.Time
	Status         string // STARTED or MISSED
	Jobs           int64
	Message        string
	CreatedAt      time.Time
}

// InsertPlanRun records a run; ErrExists if that run was already recorded.
func (s *Store) InsertPlanRun(ctx context.Context, r PlanRun) error {
	_, err := s.db.SQL().ExecContext(ctx, `INSERT INTO plan_runs (plan_id, rule_id, scheduled_at, status, jobs, message, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, r.PlanID, r.RuleID, catsql.ToNanos(r.ScheduledAt), r.Status, r.Jobs, r.Message, catsql.ToNanos(r.CreatedAt))
	if catalog.IsUniqueViolation(err) {
		return fmt.Errorf("plan %s rule %s run at %s: %w", r.PlanID, r.RuleID, r.ScheduledAt, catalog.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("record plan run: %w", err)
	}
	return nil
}

// LastPlanRun returns the newest recorded run of a rule; ErrNotFound if none.
func (s *Store) LastPlanRun(ctx context.Context, planID, ruleID string) (PlanRun, error) {
	r, err := scanPlanRun(s.db.SQL().QueryRowContext(ctx, `SELECT plan_id, rule_id, scheduled_at, status, jobs, message, created_at FROM plan_runs
		WHERE plan_id = ? AND rule_id = ? ORDER BY scheduled_at DESC LIMIT 1`, planID, ruleID))
	if errors.Is(err, sql.ErrNoRows) {
		return r, catalog.ErrNotFound
	}
	if err != nil {
		return r, fmt.Errorf("read last plan run: %w", err)
	}
	return r, nil
}

// ListPlanRuns returns one page of a rule's recorded runs, newest first.
func (s *Store) ListPlanRuns(ctx context.Context, planID, ruleID string, p catalog.Page) ([]PlanRun, string, error) {
	return catalog.QueryPage(ctx, s.db, "plan runs", `SELECT plan_id, rule_id, scheduled_at, status, jobs, message, created_at FROM plan_runs
		WHERE plan_id = ? AND rule_id = ? ORDER BY scheduled_at DESC`, []any{planID, ruleID}, p, scanPlanRun)
}

func scanPlanRun(s catsql.Scanner) (PlanRun, error) {
	var r PlanRun
	var at, created int64
	err := s.Scan(&r.PlanID, &r.RuleID, &at, &r.Status, &r.Jobs, &r.Message, &created)
	r.ScheduledAt, r.CreatedAt = catsql.FromNanos(at), catsql.FromNanos(created)
	return r, err
}

// SetPlanLastExecution records when a plan last started jobs.
func (s *Store) SetPlanLastExecution(ctx context.Context, planID string, at time.Time) error {
	if _, err := s.db.SQL().ExecContext(ctx, `UPDATE backup_plans SET last_execution_at = ? WHERE id = ?`, catsql.ToNanos(at), planID); err != nil {
		return fmt.Errorf("update plan %s: %w", planID, err)
	}
	return nil
}
