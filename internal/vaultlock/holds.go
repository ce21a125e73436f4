package vaultlock

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/holdstore"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// HoldInput is CreateLegalHold's body.
type HoldInput struct {
	Title, Description, IdempotencyToken string
	Selection                            holdstore.HoldSelection
	Tags                                 map[string]string
}

// Bounds of a legal hold's texts (coffer's: AWS documents none).
const (
	maxTitle       = 256
	maxDescription = 2048
)

func (in HoldInput) validate() error {
	switch {
	case strings.TrimSpace(in.Title) == "":
		return fmt.Errorf("%w: Title", vocab.ErrMissingParameter)
	case strings.TrimSpace(in.Description) == "":
		return fmt.Errorf("%w: Description", vocab.ErrMissingParameter)
	case len(in.Title) > maxTitle:
		return fmt.Errorf("%w: Title is longer than %d bytes", vocab.ErrInvalidParameter, maxTitle)
	case len(in.Description) > maxDescription:
		return fmt.Errorf("%w: Description is longer than %d bytes", vocab.ErrInvalidParameter, maxDescription)
	case !in.Selection.From.IsZero() && !in.Selection.To.IsZero() && in.Selection.From.After(in.Selection.To):
		return fmt.Errorf("%w: DateRange FromDate is after ToDate", vocab.ErrInvalidParameter)
	}
	if err := vocab.ValidateTags(in.Tags); err != nil {
		return err
	}
	return nil
}

// CreateHold creates a legal hold on the recovery points its selection
// matches now (later ones are not held, as in AWS), and records it in
// each vault holding one. The catalog goes first, so the hold is in
// effect at once; a failed vault write fails the call, and the same
// IdempotencyToken retries it.
func (s *Locks) CreateHold(ctx context.Context, in HoldInput) (holdstore.LegalHold, int64, error) {
	if err := in.validate(); err != nil {
		return holdstore.LegalHold{}, 0, err
	}
	for _, name := range in.Selection.VaultNames {
		if _, err := s.cfg.DB.Vault(ctx, name); errors.Is(err, catalog.ErrNotFound) {
			return holdstore.LegalHold{}, 0, fmt.Errorf("backup vault %q: %w", name, vocab.ErrNotFound)
		} else if err != nil {
			return holdstore.LegalHold{}, 0, err
		}
	}
	if in.IdempotencyToken != "" {
		h, ok, err := s.cfg.Holds.LegalHoldByToken(ctx, in.IdempotencyToken)
		if err != nil {
			return holdstore.LegalHold{}, 0, err
		}
		if ok {
			n, err := s.recordHold(ctx, h)
			return h, n, err
		}
	}
	id := strings.ToLower(vocab.NewID())
	h := holdstore.LegalHold{ID: id, ARN: s.cfg.Names.LegalHoldARN(id), Title: in.Title, Description: in.Description,
		Status: holdstore.HoldActive, Selection: in.Selection, IdempotencyToken: in.IdempotencyToken, Tags: in.Tags,
		CreatedAt: s.cfg.Clock.Now()}
	if _, err := s.cfg.Holds.CreateLegalHold(ctx, h); err != nil {
		return holdstore.LegalHold{}, 0, err
	}
	n, err := s.recordHold(ctx, h)
	if err != nil {
		return h, n, err
	}
	s.cfg.Log.Info("legal hold created", "hold", h.ID, "recovery_points", n)
	return h, n, nil
}

// recordHold writes hold h, with its points by vault, into each vault
// that has one, and returns how many points it holds.
func (s *Locks) recordHold(ctx context.Context, h holdstore.LegalHold) (int64, error) {
	points, err := catalog.AllPages(func(p catalog.Page) ([]holdstore.HeldPoint, string, error) {
		return s.cfg.Holds.HeldPoints(ctx, h.ID, p)
	})
	if err != nil {
		return 0, err
	}
	byVault := map[string][]vault.HeldPoint{}
	for _, p := range points {
		byVault[p.VaultName] = append(byVault[p.VaultName], vault.HeldPoint{ARN: p.RecoveryPointARN, ResourceARN: p.ResourceARN, ResourceType: p.ResourceType})
	}
	sel, err := json.Marshal(h.Selection)
	if err != nil {
		return 0, err
	}
	var errs []error
	for name, pts := range byVault {
		rec := vault.LegalHold{ID: h.ID, ARN: h.ARN, Title: h.Title, Description: h.Description, Status: h.Status,
			CancelDescription: h.CancelDescription, Selection: sel, Tags: h.Tags, CreatedAt: h.CreatedAt,
			CancelledAt: h.CancelledAt, RetainRecordUntil: h.RetainRecordUntil, Points: pts}
		if err := s.cfg.Recorder.RecordLegalHold(ctx, name, rec); err != nil && !errors.Is(err, vocab.ErrNotFound) {
			errs = append(errs, fmt.Errorf("record legal hold %q in vault %q: %w", h.ID, name, err))
		}
	}
	return int64(len(points)), errors.Join(errs...)
}

// Hold returns one legal hold.
func (s *Locks) Hold(ctx context.Context, id string) (holdstore.LegalHold, error) {
	h, err := s.cfg.Holds.LegalHold(ctx, id)
	if errors.Is(err, catalog.ErrNotFound) {
		return h, fmt.Errorf("legal hold %q: %w", id, vocab.ErrNotFound)
	}
	return h, err
}

// Holds lists legal holds, oldest first.
func (s *Locks) Holds(ctx context.Context, p catalog.Page) ([]holdstore.LegalHold, string, error) {
	return s.cfg.Holds.ListLegalHolds(ctx, p)
}

// HeldPoints lists the recovery points of legal hold id.
func (s *Locks) HeldPoints(ctx context.Context, id string, p catalog.Page) ([]holdstore.HeldPoint, string, error) {
	if _, err := s.Hold(ctx, id); err != nil {
		return nil, "", err
	}
	return s.cfg.Holds.HeldPoints(ctx, id, p)
}

// CancelHold cancels an active legal hold; its recovery points become
// deletable (and expire) unless another hold holds them. The record is
// kept at least retainDays.
func (s *Locks) CancelHold(ctx context.Context, id, description string, retainDays int64) error {
	if strings.TrimSpace(description) == "" {
		return fmt.Errorf("%w: CancelDescription", vocab.ErrMissingParameter)
	}
	if len(description) > maxDescription {
		return fmt.Errorf("%w: CancelDescription is longer than %d bytes", vocab.ErrInvalidParameter, maxDescription)
	}
	if retainDays < 0 || retainDays > MaxDays {
		return fmt.Errorf("%w: RetainRecordInDays must be from 0 to %d", vocab.ErrInvalidParameter, MaxDays)
	}
	now := s.cfg.Clock.Now()
	var until time.Time
	if retainDays > 0 {
		until = vocab.AddDays(now, retainDays)
	}
	cancelErr := s.cfg.Holds.CancelLegalHold(ctx, id, description, now, until)
	switch {
	case errors.Is(cancelErr, catalog.ErrNotFound):
		return fmt.Errorf("legal hold %q: %w", id, vocab.ErrNotFound)
	case cancelErr != nil && !errors.Is(cancelErr, vocab.ErrInvalidState):
		return cancelErr
	}
	h, err := s.cfg.Holds.LegalHold(ctx, id)
	if err != nil {
		return err
	}
	if cancelErr != nil {
		if h.Status == holdstore.HoldCanceled {
			// Cancelled before, maybe with a vault left saying ACTIVE by
			// a failure: record it again.
			_, err := s.recordHold(ctx, h)
			return errors.Join(cancelErr, err)
		}
		return cancelErr
	}
	// A vault still saying ACTIVE after a failure here keeps the hold in a
	// rebuilt catalog: the safe side.
	if _, err := s.recordHold(ctx, h); err != nil {
		return err
	}
	s.cfg.Log.Info("legal hold cancelled", "hold", id)
	return nil
}
