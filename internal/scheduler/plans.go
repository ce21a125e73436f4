package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/planstore"
	"github.com/cofferbackup/coffer/internal/plan"
	"github.com/cofferbackup/coffer/internal/vocab"
)

func (s *Scheduler) planARN(id string) string { return s.names.PlanARN(id) }

func newVersionID() string { return strings.ReplaceAll(strings.ToLower(vocab.NewID()), "-", "")[:24] }

// validatePlan checks a document against the catalog's vaults.
func (s *Scheduler) validatePlan(ctx context.Context, doc *plan.Document) error {
	err := doc.Validate(func(name string) bool {
		_, err := s.db.Vault(ctx, name)
		return err == nil
	})
	if errors.Is(err, plan.ErrInvalid) {
		return fmt.Errorf("%w: %v", vocab.ErrInvalidParameter, err)
	}
	return err
}

// CreatePlan validates and stores a new backup plan.
func (s *Scheduler) CreatePlan(ctx context.Context, doc plan.Document, tags map[string]string, creatorRequestID string) (Plan, error) {
	if creatorRequestID != "" {
		if p, err := s.planByCreatorRequest(ctx, creatorRequestID); err == nil {
			return p, nil
		}
	}
	if err := s.validatePlan(ctx, &doc); err != nil {
		return Plan{}, err
	}
	if err := vocab.ValidateTags(tags); err != nil {
		return Plan{}, err
	}
	for i := range doc.Rules {
		doc.Rules[i].RuleId = strings.ToLower(vocab.NewID())
	}
	id := strings.ToLower(vocab.NewID())
	p := planstore.Plan{ID: id, ARN: s.planARN(id), Name: doc.BackupPlanName, VersionID: newVersionID(),
		CreatorRequestID: creatorRequestID, CreatedAt: s.clock.Now(), Document: mustJSON(doc)}
	if err := s.plans.CreatePlan(ctx, p); err != nil {
		return Plan{}, err
	}
	if err := s.db.SetTags(ctx, p.ARN, tags); err != nil {
		return Plan{}, err
	}
	s.log.Info("backup plan created", "plan", id, "name", doc.BackupPlanName, "rules", len(doc.Rules))
	return Plan{Plan: p, Doc: doc}, nil
}

func (s *Scheduler) planByCreatorRequest(ctx context.Context, token string) (Plan, error) {
	p := catalog.Page{Max: 1000}
	for {
		plans, tok, err := s.plans.ListPlans(ctx, false, p)
		if err != nil {
			return Plan{}, err
		}
		for _, cp := range plans {
			if cp.CreatorRequestID == token {
				return decodePlan(cp)
			}
		}
		if tok == "" {
			return Plan{}, vocab.ErrNotFound
		}
		p.Token = tok
	}
}

func decodePlan(cp planstore.Plan) (Plan, error) {
	var doc plan.Document
	if err := json.Unmarshal([]byte(cp.Document), &doc); err != nil {
		return Plan{}, fmt.Errorf("decode plan %s version %s: %w", cp.ID, cp.VersionID, err)
	}
	return Plan{Plan: cp, Doc: doc}, nil
}

// Plan returns a plan at its current version, or at versionID.
func (s *Scheduler) Plan(ctx context.Context, id, versionID string) (Plan, error) {
	cp, err := s.plans.Plan(ctx, id, versionID)
	if errors.Is(err, catalog.ErrNotFound) {
		return Plan{}, fmt.Errorf("backup plan %q: %w", id, vocab.ErrNotFound)
	}
	if err != nil {
		return Plan{}, err
	}
	return decodePlan(cp)
}

// UpdatePlan stores doc as a new version of a live plan. Rules keep their
// RuleId across versions when their RuleName is unchanged.
func (s *Scheduler) UpdatePlan(ctx context.Context, id string, doc plan.Document) (Plan, error) {
	cur, err := s.Plan(ctx, id, "")
	if err != nil {
		return Plan{}, err
	}
	if !cur.DeletedAt.IsZero() {
		return Plan{}, fmt.Errorf("%w: backup plan %q is deleted", vocab.ErrInvalidRequest, id)
	}
	if err := s.validatePlan(ctx, &doc); err != nil {
		return Plan{}, err
	}
	if err := s.checkContinuousOverlap(ctx, id, &doc, nil); err != nil {
		return Plan{}, err
	}
	ids := map[string]string{}
	for _, r := range cur.Doc.Rules {
		ids[r.RuleName] = r.RuleId
	}
	for i := range doc.Rules {
		if rid, ok := ids[doc.Rules[i].RuleName]; ok {
			doc.Rules[i].RuleId = rid
		} else {
			doc.Rules[i].RuleId = strings.ToLower(vocab.NewID())
		}
	}
	// Runs that came due under the current version start now, before the
	// new version replaces it (its schedule counts from its own creation).
	if _, errs := s.runPlan(ctx, cur, s.clock.Now(), s.newResolver()); len(errs) > 0 {
		s.log.Warn("due runs before a plan update", "plan", id, "err", errors.Join(errs...))
	}
	cp := cur.Plan
	cp.Name, cp.VersionID, cp.CreatedAt, cp.Document = doc.BackupPlanName, newVersionID(), s.clock.Now(), mustJSON(doc)
	if err := s.plans.UpdatePlan(ctx, cp); err != nil {
		return Plan{}, err
	}
	return Plan{Plan: cp, Doc: doc}, nil
}

// DeletePlan deletes a plan; like AWS it refuses while selections exist.
func (s *Scheduler) DeletePlan(ctx context.Context, id string) (Plan, error) {
	p, err := s.Plan(ctx, id, "")
	if err != nil {
		return Plan{}, err
	}
	if !p.DeletedAt.IsZero() {
		return Plan{}, fmt.Errorf("backup plan %q: %w", id, vocab.ErrNotFound)
	}
	sels, _, err := s.plans.ListSelections(ctx, id, catalog.Page{Max: 1})
	if err != nil {
		return Plan{}, err
	}
	if len(sels) > 0 {
		return Plan{}, fmt.Errorf("%w: backup plan %q still has backup selections (%s); delete them first", vocab.ErrInvalidRequest, id, sels[0].ID)
	}
	now := s.clock.Now()
	if err := s.plans.DeletePlan(ctx, id, now); err != nil {
		return Plan{}, err
	}
	p.DeletedAt = now
	return p, nil
}

// ListPlans lists plans newest first.
func (s *Scheduler) ListPlans(ctx context.Context, includeDeleted bool, pg catalog.Page) ([]Plan, string, error) {
	cps, tok, err := wrapPage(s.plans.ListPlans(ctx, includeDeleted, pg))
	return decodePlans(cps, tok, err)
}

// ListPlanVersions lists a plan's versions newest first.
func (s *Scheduler) ListPlanVersions(ctx context.Context, id string, pg catalog.Page) ([]Plan, string, error) {
	if _, err := s.Plan(ctx, id, ""); err != nil {
		return nil, "", err
	}
	cps, tok, err := wrapPage(s.plans.ListPlanVersions(ctx, id, pg))
	return decodePlans(cps, tok, err)
}

func decodePlans(cps []planstore.Plan, tok string, err error) ([]Plan, string, error) {
	if err != nil {
		return nil, "", err
	}
	out := make([]Plan, 0, len(cps))
	for _, cp := range cps {
		p, err := decodePlan(cp)
		if err != nil {
			return nil, "", err
		}
		out = append(out, p)
	}
	return out, tok, nil
}

// NextRuns returns the plan's next n scheduled runs after now, all rules
// merged in time order.
func (s *Scheduler) NextRuns(ctx context.Context, p Plan, n int) ([]ScheduledRun, error) {
	var runs []ScheduledRun
	now := s.clock.Now()
	for i := range p.Doc.Rules {
		r := &p.Doc.Rules[i]
		sch, _, err := s.ruleSchedule(ctx, p, r)
		if err != nil {
			return nil, err
		}
		if sch == nil {
			continue // on-demand rules have no runs
		}
		for _, t := range sch.NextN(now, n) {
			runs = append(runs, ScheduledRun{Time: t, RuleID: r.RuleId})
		}
	}
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].Time.Before(runs[j].Time) })
	if len(runs) > n {
		runs = runs[:n]
	}
	return runs, nil
}
