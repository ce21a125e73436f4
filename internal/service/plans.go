package service

import (
	"context"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/plan"
	"github.com/cofferbackup/coffer/internal/scheduler"
)

// Plans, selections and scheduled runs are owned by package scheduler;
// the facade keeps the names the API layer uses.
type (
	Plan         = scheduler.Plan
	Selection    = scheduler.Selection
	ScheduledRun = scheduler.ScheduledRun
)

// Plan run statuses recorded by the scheduler.
const (
	RunStarted = scheduler.RunStarted
	RunMissed  = scheduler.RunMissed
)

// newScheduler builds the scheduler on the open catalog: it starts
// backups through the backup jobs' owner.
func (s *Service) newScheduler() *scheduler.Scheduler {
	return scheduler.New(scheduler.Config{DB: s.db, Plans: s.planStore, Clock: s.clock, Log: s.log,
		Names: s.names(), Backups: s.backups,
		Buckets:     func(ctx context.Context, conn string) (scheduler.Buckets, error) { return s.source(ctx, conn) },
		Connections: s.conns.Names})
}

// CreatePlan validates and stores a new backup plan.
func (s *Service) CreatePlan(ctx context.Context, doc plan.Document, tags map[string]string, creatorRequestID string) (Plan, error) {
	return s.plans.CreatePlan(ctx, doc, tags, creatorRequestID)
}

// Plan returns a plan at its current version, or at versionID.
func (s *Service) Plan(ctx context.Context, id, versionID string) (Plan, error) {
	return s.plans.Plan(ctx, id, versionID)
}

// UpdatePlan stores doc as a new version of a live plan.
func (s *Service) UpdatePlan(ctx context.Context, id string, doc plan.Document) (Plan, error) {
	return s.plans.UpdatePlan(ctx, id, doc)
}

// DeletePlan deletes a plan; like AWS it refuses while selections exist.
func (s *Service) DeletePlan(ctx context.Context, id string) (Plan, error) {
	return s.plans.DeletePlan(ctx, id)
}

// ListPlans lists plans newest first.
func (s *Service) ListPlans(ctx context.Context, includeDeleted bool, pg catalog.Page) ([]Plan, string, error) {
	return s.plans.ListPlans(ctx, includeDeleted, pg)
}

// ListPlanVersions lists a plan's versions newest first.
func (s *Service) ListPlanVersions(ctx context.Context, id string, pg catalog.Page) ([]Plan, string, error) {
	return s.plans.ListPlanVersions(ctx, id, pg)
}

// NextRuns returns the plan's next n scheduled runs.
func (s *Service) NextRuns(ctx context.Context, p Plan, n int) ([]ScheduledRun, error) {
	return s.plans.NextRuns(ctx, p, n)
}

// CreateSelection assigns resources to a live plan.
func (s *Service) CreateSelection(ctx context.Context, planID string, doc plan.Selection, creatorRequestID string) (Selection, error) {
	return s.plans.CreateSelection(ctx, planID, doc, creatorRequestID)
}

// Selection returns one selection of a plan.
func (s *Service) Selection(ctx context.Context, planID, id string) (Selection, error) {
	return s.plans.Selection(ctx, planID, id)
}

// ListSelections lists a plan's selections.
func (s *Service) ListSelections(ctx context.Context, planID string, pg catalog.Page) ([]Selection, string, error) {
	return s.plans.ListSelections(ctx, planID, pg)
}

// DeleteSelection removes a selection from a plan.
func (s *Service) DeleteSelection(ctx context.Context, planID, id string) error {
	return s.plans.DeleteSelection(ctx, planID, id)
}

// RunSchedules starts the backups of every due plan rule (see
// scheduler.Scheduler.RunSchedules).
func (s *Service) RunSchedules(ctx context.Context) (int, error) { return s.plans.RunSchedules(ctx) }
