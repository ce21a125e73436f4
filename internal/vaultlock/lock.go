package vaultlock

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/holdstore"
	"github.com/cofferbackup/coffer/internal/clock"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// Bounds of a lock configuration, as AWS sets them.
const (
	MaxDays           = 36500 // MinRetentionDays, MaxRetentionDays, ChangeableForDays
	MinChangeableDays = 3     // the cooling-off period of compliance mode
	MinAirGappedDays  = 7     // MinRetentionDays of a logically air-gapped vault
)

// Recorder writes what this package decides into the vaults (the
// inventory implements it under the vault's lease).
type Recorder interface {
	RecordVaultLock(ctx context.Context, vaultName string, l *vault.Lock) error
	RecordLegalHold(ctx context.Context, vaultName string, h vault.LegalHold) error
}

// Config is what the locks and holds need.
type Config struct {
	DB       *catalog.DB
	Holds    *holdstore.Store // vault locks and legal holds
	Clock    clock.Clock
	Log      *slog.Logger
	Names    vocab.Names
	Recorder Recorder
}

// Locks owns vault locks and legal holds. Safe for concurrent use.
type Locks struct{ cfg Config }

// New returns the owner of vault locks and legal holds.
func New(cfg Config) *Locks { return &Locks{cfg: cfg} }

// PutInput is PutBackupVaultLockConfiguration's body; nil is unset.
type PutInput struct {
	MinRetentionDays, MaxRetentionDays, ChangeableForDays *int64
}

// Validate checks in against AWS's bounds.
func (in PutInput) Validate() error {
	for _, f := range []struct {
		name string
		v    *int64
		min  int64
	}{{"MinRetentionDays", in.MinRetentionDays, 1}, {"MaxRetentionDays", in.MaxRetentionDays, 1}, {"ChangeableForDays", in.ChangeableForDays, MinChangeableDays}} {
		if f.v != nil && (*f.v < f.min || *f.v > MaxDays) {
			return fmt.Errorf("%w: %s must be from %d to %d, got %d", vocab.ErrInvalidParameter, f.name, f.min, MaxDays, *f.v)
		}
	}
	if in.MinRetentionDays != nil && in.MaxRetentionDays != nil && *in.MinRetentionDays > *in.MaxRetentionDays {
		return fmt.Errorf("%w: MinRetentionDays (%d) is greater than MaxRetentionDays (%d)", vocab.ErrInvalidParameter,
			*in.MinRetentionDays, *in.MaxRetentionDays)
	}
	return nil
}

// Immutable reports whether lock l can no longer be changed or removed:
// compliance mode past its lock date.
func Immutable(l catalog.VaultLock, now time.Time) bool {
	return !l.LockDate.IsZero() && !now.Before(l.LockDate)
}

// Put applies a lock configuration to vault vaultName, replacing the
// one it has unless that one is immutable. The vault records it first:
// a rebuilt catalog must not lose a lock the API confirmed.
func (s *Locks) Put(ctx context.Context, vaultName string, in PutInput) error {
	if err := in.Validate(); err != nil {
		return err
	}
	if err := s.mutable(ctx, vaultName); err != nil {
		return err
	}
	now := s.cfg.Clock.Now()
	l := catalog.VaultLock{VaultName: vaultName, UpdatedAt: now}
	if in.MinRetentionDays != nil {
		l.MinRetentionDays = *in.MinRetentionDays
	}
	if in.MaxRetentionDays != nil {
		l.MaxRetentionDays = *in.MaxRetentionDays
	}
	if in.ChangeableForDays != nil {
		l.LockDate = vocab.AddDays(now, *in.ChangeableForDays)
	}
	return s.put(ctx, l)
}

func (s *Locks) put(ctx context.Context, l catalog.VaultLock) error {
	rec := &vault.Lock{MinRetentionDays: l.MinRetentionDays, MaxRetentionDays: l.MaxRetentionDays, LockDate: l.LockDate}
	if err := s.cfg.Recorder.RecordVaultLock(ctx, l.VaultName, rec); err != nil {
		return fmt.Errorf("lock vault %q: %w", l.VaultName, err)
	}
	if err := s.cfg.Holds.PutVaultLock(ctx, l); err != nil {
		return err
	}
	s.cfg.Log.Info("vault lock configured", "vault", l.VaultName, "min_days", l.MinRetentionDays, "max_days", l.MaxRetentionDays,
		"lock_date", l.LockDate)
	return nil
}

// AirGappedLock validates CreateLogicallyAirGappedBackupVault's
// retention bounds (both required, MinRetentionDays at least 7) and
// returns the vault's lock: compliance mode, immutable from now.
func AirGappedLock(minDays, maxDays *int64, now time.Time) (*vault.Lock, error) {
	switch {
	case minDays == nil:
		return nil, fmt.Errorf("%w: MinRetentionDays", vocab.ErrMissingParameter)
	case maxDays == nil:
		return nil, fmt.Errorf("%w: MaxRetentionDays", vocab.ErrMissingParameter)
	case *minDays < MinAirGappedDays:
		return nil, fmt.Errorf("%w: MinRetentionDays of a logically air-gapped vault must be at least %d, got %d",
			vocab.ErrInvalidParameter, MinAirGappedDays, *minDays)
	}
	if err := (PutInput{MinRetentionDays: minDays, MaxRetentionDays: maxDays}).Validate(); err != nil {
		return nil, err
	}
	return &vault.Lock{MinRetentionDays: *minDays, MaxRetentionDays: *maxDays, LockDate: now}, nil
}

// Delete removes vault vaultName's lock configuration unless it is
// immutable; a vault without one is left as it is.
func (s *Locks) Delete(ctx context.Context, vaultName string) error {
	if err := s.mutable(ctx, vaultName); err != nil {
		return err
	}
	if err := s.cfg.Recorder.RecordVaultLock(ctx, vaultName, nil); err != nil {
		return fmt.Errorf("unlock vault %q: %w", vaultName, err)
	}
	if err := s.cfg.Holds.DeleteVaultLock(ctx, vaultName); err != nil {
		return err
	}
	s.cfg.Log.Info("vault lock removed", "vault", vaultName)
	return nil
}

// mutable refuses a change of the lock of a vault that is missing or
// whose lock is immutable.
func (s *Locks) mutable(ctx context.Context, vaultName string) error {
	if _, err := s.cfg.DB.Vault(ctx, vaultName); err != nil {
		if errors.Is(err, catalog.ErrNotFound) {
			return fmt.Errorf("backup vault %q: %w", vaultName, vocab.ErrNotFound)
		}
		return err
	}
	l, ok, err := s.cfg.Holds.VaultLock(ctx, vaultName)
	if err != nil {
		return err
	}
	if ok && Immutable(l, s.cfg.Clock.Now()) {
		return fmt.Errorf("%w: the vault lock of backup vault %q is in compliance mode and immutable since %s: nobody can change or remove it",
			vocab.ErrInvalidRequest, vaultName, l.LockDate.UTC().Format(time.RFC3339))
	}
	return nil
}

// Lock returns vault vaultName's lock configuration and whether it has one.
func (s *Locks) Lock(ctx context.Context, vaultName string) (catalog.VaultLock, bool, error) {
	return s.cfg.Holds.VaultLock(ctx, vaultName)
}

// CheckRetention refuses a job retention (days; 0: kept forever) outside
// vault vaultName's [MinRetentionDays, MaxRetentionDays].
func (s *Locks) CheckRetention(ctx context.Context, vaultName string, days int64) error {
	l, ok, err := s.cfg.Holds.VaultLock(ctx, vaultName)
	if err != nil || !ok {
		return err
	}
	return checkRetention(l, days)
}

func checkRetention(l catalog.VaultLock, days int64) error {
	switch {
	case l.MaxRetentionDays > 0 && days == 0:
		return fmt.Errorf("%w: backup vault %q is locked with MaxRetentionDays %d: a recovery point kept forever (no DeleteAfterDays) is not allowed",
			vocab.ErrInvalidParameter, l.VaultName, l.MaxRetentionDays)
	case l.MaxRetentionDays > 0 && days > l.MaxRetentionDays:
		return fmt.Errorf("%w: backup vault %q is locked with MaxRetentionDays %d: DeleteAfterDays %d is longer",
			vocab.ErrInvalidParameter, l.VaultName, l.MaxRetentionDays, days)
	case l.MinRetentionDays > 0 && days > 0 && days < l.MinRetentionDays:
		return fmt.Errorf("%w: backup vault %q is locked with MinRetentionDays %d: DeleteAfterDays %d is shorter",
			vocab.ErrInvalidParameter, l.VaultName, l.MinRetentionDays, days)
	}
	return nil
}

// MayDelete refuses the deletion of recovery point rp while a legal hold
// holds it or, unless the deletion is its expiry at its DeleteAt, while
// its vault is locked and its retention has not ended.
func (s *Locks) MayDelete(ctx context.Context, rp catalog.RecoveryPoint, expiry bool) error {
	holds, err := s.cfg.Holds.ActiveHolds(ctx, rp.ARN)
	if err != nil {
		return err
	}
	if len(holds) > 0 {
		return fmt.Errorf("%w: recovery point %q is under legal hold %s: it cannot be deleted until every hold on it is cancelled",
			vocab.ErrInvalidRequest, rp.ARN, holds[0])
	}
	_, ok, err := s.cfg.Holds.VaultLock(ctx, rp.VaultName)
	if err != nil || !ok {
		return err
	}
	now := s.cfg.Clock.Now()
	if rp.DeleteAt.IsZero() {
		return fmt.Errorf("%w: backup vault %q is locked and recovery point %q has no DeleteAt: it cannot be deleted",
			vocab.ErrInvalidRequest, rp.VaultName, rp.ARN)
	}
	if now.Before(rp.DeleteAt) && !expiry {
		return fmt.Errorf("%w: backup vault %q is locked: recovery point %q cannot be deleted before its DeleteAt %s",
			vocab.ErrInvalidRequest, rp.VaultName, rp.ARN, rp.DeleteAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// MayChangeLifecycle refuses, in a locked vault, a new retention of
// recovery point rp (days from its creation; 0: kept forever) that ends
// before the one it has, removes it, or exceeds MaxRetentionDays.
func (s *Locks) MayChangeLifecycle(ctx context.Context, rp catalog.RecoveryPoint, days int64) error {
	l, ok, err := s.cfg.Holds.VaultLock(ctx, rp.VaultName)
	if err != nil || !ok {
		return err
	}
	if days == 0 {
		return fmt.Errorf("%w: backup vault %q is locked: the retention of recovery point %q cannot be removed",
			vocab.ErrInvalidRequest, rp.VaultName, rp.ARN)
	}
	// Kept forever now: any end is shorter.
	if rp.DeleteAt.IsZero() || vocab.AddDays(rp.CreatedAt, days).Before(rp.DeleteAt) {
		return fmt.Errorf("%w: backup vault %q is locked: the retention of recovery point %q cannot be shortened",
			vocab.ErrInvalidRequest, rp.VaultName, rp.ARN)
	}
	if l.MaxRetentionDays > 0 && days > l.MaxRetentionDays {
		return fmt.Errorf("%w: backup vault %q is locked with MaxRetentionDays %d: DeleteAfterDays %d is longer",
			vocab.ErrInvalidParameter, rp.VaultName, l.MaxRetentionDays, days)
	}
	return nil
}
