package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// Resource types of taggable ARNs.
const (
	resVault         = "backup-vault"
	resPlan          = "backup-plan"
	resRecoveryPoint = "recovery-point"
)

// taggable checks that arn names an existing vault, plan or recovery point
// of this server and returns its resource type. An ARN of another
// partition, region or account is refused (InvalidParameterValueException)
// before any lookup: coffer holds no such resource, and its tags must not
// be stored under a foreign ARN.
func (s *Service) taggable(ctx context.Context, arn string) (string, error) {
	parts := strings.SplitN(arn, ":", 7)
	if len(parts) < 7 || parts[0] != "arn" || parts[2] != "backup" {
		return "", fmt.Errorf("%w: %q is not a coffer backup vault, plan or recovery point ARN", ErrInvalidParameter, arn)
	}
	n := s.names()
	if parts[1] != vocab.Partition || parts[3] != n.Region || parts[4] != n.AccountID {
		return "", fmt.Errorf("%w: %q is not in this server's partition, region and account (arn:%s:backup:%s:%s:...)",
			ErrInvalidParameter, arn, vocab.Partition, n.Region, n.AccountID)
	}
	var err error
	switch parts[5] {
	case resVault:
		var v catalog.Vault
		if v, err = s.Vault(ctx, parts[6]); err == nil && v.ARN != arn {
			err = fmt.Errorf("backup vault %q: %w", arn, ErrNotFound)
		}
	case resPlan:
		var p Plan
		if p, err = s.Plan(ctx, parts[6], ""); err == nil && (!p.DeletedAt.IsZero() || p.ARN != arn) {
			err = fmt.Errorf("backup plan %q: %w", parts[6], ErrNotFound)
		}
	case resRecoveryPoint:
		if _, err = s.db.RecoveryPointByARN(ctx, arn); errors.Is(err, catalog.ErrNotFound) {
			err = fmt.Errorf("recovery point %q: %w", arn, ErrNotFound)
		}
	default:
		return "", fmt.Errorf("%w: resources of type %q cannot be tagged", ErrInvalidParameter, parts[5])
	}
	return parts[5], err
}

// TagResource adds or replaces tags of a vault, plan or recovery point; a
// resource keeps at most vocab.MaxTags (LimitExceededException).
func (s *Service) TagResource(ctx context.Context, arn string, tags map[string]string) error {
	kind, err := s.taggable(ctx, arn)
	if err != nil {
		return err
	}
	if err := vocab.ValidateTags(tags); err != nil {
		return err
	}
	if kind != resRecoveryPoint {
		return s.db.AddTags(ctx, arn, tags)
	}
	return s.inv.ChangeRecoveryPointTags(ctx, arn, func(cur map[string]string) error {
		for k, v := range tags {
			cur[k] = v
		}
		return vocab.CheckTagCount(len(cur))
	}, func() error { return s.db.SetTags(ctx, arn, tags) })
}

// UntagResource removes tag keys of a vault, plan or recovery point.
func (s *Service) UntagResource(ctx context.Context, arn string, keys []string) error {
	kind, err := s.taggable(ctx, arn)
	if err != nil {
		return err
	}
	if kind != resRecoveryPoint {
		return s.db.RemoveTags(ctx, arn, keys)
	}
	return s.inv.ChangeRecoveryPointTags(ctx, arn, func(cur map[string]string) error {
		for _, k := range keys {
			delete(cur, k)
		}
		return nil
	}, func() error { return s.db.RemoveTags(ctx, arn, keys) })
}

// ListTags returns the tags of a vault, plan or recovery point.
func (s *Service) ListTags(ctx context.Context, arn string) (map[string]string, error) {
	if _, err := s.taggable(ctx, arn); err != nil {
		return nil, err
	}
	return s.db.Tags(ctx, arn)
}

// ProtectedResource is a resource with at least one recovery point.
type ProtectedResource struct {
	ResourceARN, ResourceType, LastRecoveryPointARN, LastVaultARN string
	LastBackupTime                                                time.Time
}

// ProtectedResources lists resources with recovery points; with resourceARN
// set, only that one (ErrNotFound if it has none).
func (s *Service) ProtectedResources(ctx context.Context, resourceARN string, pg catalog.Page) ([]ProtectedResource, string, error) {
	rps, tok, err := s.db.ProtectedResources(ctx, resourceARN, pg)
	if err != nil {
		return nil, "", err
	}
	if resourceARN != "" && len(rps) == 0 {
		return nil, "", fmt.Errorf("resource %q has no recovery point: %w", resourceARN, ErrNotFound)
	}
	out := make([]ProtectedResource, 0, len(rps))
	for _, rp := range rps {
		if len(out) > 0 && out[len(out)-1].ResourceARN == rp.ResourceARN {
			continue // two recovery points in the same instant
		}
		out = append(out, ProtectedResource{ResourceARN: rp.ResourceARN, ResourceType: rp.ResourceType,
			LastRecoveryPointARN: rp.ARN, LastVaultARN: s.names().VaultARN(rp.VaultName), LastBackupTime: rp.CreatedAt})
	}
	return out, tok, nil
}
