package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// ListRecoveryPointsByResource lists the recovery points of a resource
// in every vault, newest first.
func (s *Service) ListRecoveryPointsByResource(ctx context.Context, resourceARN string, p catalog.Page) ([]catalog.RecoveryPoint, string, error) {
	if resourceARN == "" {
		return nil, "", fmt.Errorf("%w: resourceArn is required", vocab.ErrMissingParameter)
	}
	rps, tok, err := s.db.ListRecoveryPoints(ctx, catalog.RecoveryPointFilter{ResourceARN: resourceARN}, p)
	if errors.Is(err, catalog.ErrBadToken) {
		return nil, "", fmt.Errorf("%w: invalid NextToken", vocab.ErrInvalidParameter)
	}
	return rps, tok, err
}
