package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/planstore"
	"github.com/cofferbackup/coffer/internal/plan"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// CreateSelection assigns resources to a live plan.
func (s *Scheduler) CreateSelection(ctx context.Context, planID string, doc plan.Selection, creatorRequestID string) (Selection, error) {
	p, err := s.Plan(ctx, planID, "")
	if err != nil {
		return Selection{}, err
	}
	if !p.DeletedAt.IsZero() {
		return Selection{}, fmt.Errorf("backup plan %q: %w", planID, vocab.ErrNotFound)
	}
	if err := doc.Validate(); err != nil {
		if errors.Is(err, plan.ErrInvalid) {
			return Selection{}, fmt.Errorf("%w: %v", vocab.ErrInvalidParameter, err)
		}
		return Selection{}, err
	}
	if err := s.checkContinuousOverlap(ctx, planID, &p.Doc, &doc); err != nil {
		return Selection{}, err
	}
	if creatorRequestID != "" {
		existing, err := s.allSelections(ctx, planID)
		if err != nil {
			return Selection{}, err
		}
		for _, e := range existing {
			if e.CreatorRequestID == creatorRequestID {
				return e, nil
			}
		}
	}
	sel := planstore.Selection{ID: strings.ToLower(vocab.NewID()), PlanID: planID, Name: doc.SelectionName,
		CreatorRequestID: creatorRequestID, Document: mustJSON(doc), CreatedAt: s.clock.Now()}
	if err := s.plans.CreateSelection(ctx, sel); err != nil {
		return Selection{}, err
	}
	return Selection{Selection: sel, Doc: doc}, nil
}

// Selection returns one selection of a plan.
func (s *Scheduler) Selection(ctx context.Context, planID, id string) (Selection, error) {
	cs, err := s.plans.Selection(ctx, planID, id)
	if errors.Is(err, catalog.ErrNotFound) {
		return Selection{}, fmt.Errorf("backup selection %q of plan %q: %w", id, planID, vocab.ErrNotFound)
	}
	if err != nil {
		return Selection{}, err
	}
	return decodeSelection(cs)
}

func decodeSelection(cs planstore.Selection) (Selection, error) {
	var doc plan.Selection
	if err := json.Unmarshal([]byte(cs.Document), &doc); err != nil {
		return Selection{}, fmt.Errorf("decode selection %s: %w", cs.ID, err)
	}
	return Selection{Selection: cs, Doc: doc}, nil
}

// ListSelections lists a plan's selections.
func (s *Scheduler) ListSelections(ctx context.Context, planID string, pg catalog.Page) ([]Selection, string, error) {
	if _, err := s.Plan(ctx, planID, ""); err != nil {
		return nil, "", err
	}
	css, tok, err := wrapPage(s.plans.ListSelections(ctx, planID, pg))
	if err != nil {
		return nil, "", err
	}
	out := make([]Selection, 0, len(css))
	for _, cs := range css {
		sel, err := decodeSelection(cs)
		if err != nil {
			return nil, "", err
		}
		out = append(out, sel)
	}
	return out, tok, nil
}

func (s *Scheduler) allSelections(ctx context.Context, planID string) ([]Selection, error) {
	var all []Selection
	pg := catalog.Page{Max: 1000}
	for {
		sels, tok, err := s.ListSelections(ctx, planID, pg)
		if err != nil {
			return nil, err
		}
		all = append(all, sels...)
		if tok == "" {
			return all, nil
		}
		pg.Token = tok
	}
}

// DeleteSelection removes a selection.
func (s *Scheduler) DeleteSelection(ctx context.Context, planID, id string) error {
	err := s.plans.DeleteSelection(ctx, planID, id)
	if errors.Is(err, catalog.ErrNotFound) {
		return fmt.Errorf("backup selection %q of plan %q: %w", id, planID, vocab.ErrNotFound)
	}
	return err
}
