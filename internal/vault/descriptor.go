package vault

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kopia/kopia/repo"
	"github.com/kopia/kopia/repo/manifest"
)

// Manifest types that make a vault self-describing beside its recovery
// points (docs/format.md, "Vault descriptor"). Maintenance never deletes
// manifests and marks only recovery-point manifests, so these are safe
// from it.
const (
	manifestTypeDescriptor  = "coffer-vault"
	manifestTypeRPTags      = "coffer-recovery-point-tags"
	manifestTypeRPLifecycle = "coffer-recovery-point-lifecycle"
	manifestTypeLegalHold   = "coffer-legal-hold"
)

// DescriptorVersion is the format version of a Descriptor this code writes.
const DescriptorVersion = 1

// Descriptor is what a vault says about itself, so that a catalog can be
// rebuilt from the vault alone: everything DescribeBackupVault shows
// except what is derived (the recovery-point count) or constant.
type Descriptor struct {
	Version          int       `json:"version"`
	ID               string    `json:"id"` // vault id; its secret derives from it
	Name             string    `json:"name"`
	ARN              string    `json:"arn"`
	CreatedAt        time.Time `json:"created_at"`
	CreatorRequestID string    `json:"creator_request_id,omitempty"`
	EncryptionKeyARN string    `json:"encryption_key_arn,omitempty"`
	// VaultType is "" for a BACKUP_VAULT, else AWS's VaultType.
	VaultType string `json:"vault_type,omitempty"`
	// Lock is the vault lock configuration, nil without one.
	Lock *Lock `json:"lock,omitempty"`
}

// Lock is a vault's lock configuration as the vault records it (zero
// days: unset; zero LockDate: governance mode).
type Lock struct {
	MinRetentionDays int64     `json:"min_retention_days,omitempty"`
	MaxRetentionDays int64     `json:"max_retention_days,omitempty"`
	LockDate         time.Time `json:"lock_date,omitzero"`
}

// RecoveryPointLifecycle is a recovery point's retention as changed after
// the backup (UpdateRecoveryPointLifecycle); the manifest keeps the one
// given at backup time.
type RecoveryPointLifecycle struct {
	ID              string    `json:"id"` // recovery point id
	DeleteAfterDays int64     `json:"delete_after_days"`
	DeleteAt        time.Time `json:"delete_at,omitzero"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// LegalHold is a legal hold as each vault holding one of its recovery
// points records it, with the points of that vault.
type LegalHold struct {
	ID                string            `json:"id"`
	ARN               string            `json:"arn"`
	Title             string            `json:"title"`
	Description       string            `json:"description"`
	Status            string            `json:"status"`
	CancelDescription string            `json:"cancel_description,omitempty"`
	Selection         json.RawMessage   `json:"selection,omitempty"`
	Tags              map[string]string `json:"tags,omitempty"`
	CreatedAt         time.Time         `json:"created_at"`
	CancelledAt       time.Time         `json:"cancelled_at,omitzero"`
	RetainRecordUntil time.Time         `json:"retain_record_until,omitzero"`
	Points            []HeldPoint       `json:"points"`
}

// HeldPoint is one recovery point of this vault that a legal hold holds.
type HeldPoint struct {
	ARN          string `json:"arn"`
	ResourceARN  string `json:"resource_arn"`
	ResourceType string `json:"resource_type"`
}

// RecoveryPointTags is the current tag set of a recovery point, written
// whenever its tags change after the backup (the manifest keeps the tags
// given at backup time).
type RecoveryPointTags struct {
	ID        string            `json:"id"` // recovery point id
	Tags      map[string]string `json:"tags"`
	UpdatedAt time.Time         `json:"updated_at"`
}

// PutDescriptor writes d, replacing any earlier descriptor, and commits.
func (v *Vault) PutDescriptor(ctx context.Context, d Descriptor) error {
	if d.Version == 0 {
		d.Version = DescriptorVersion
	}

	err := v.replaceManifest(ctx, map[string]string{labelType: manifestTypeDescriptor}, d)
	if err != nil {
		return fmt.Errorf("vault %q: put descriptor: %w", v.dir, err)
	}

	return nil
}

// Descriptor returns the vault's descriptor; ErrNotFound for a vault
// made before descriptors existed.
func (v *Vault) Descriptor(ctx context.Context) (Descriptor, error) {
	var d Descriptor

	found, err := v.newestManifest(ctx, map[string]string{labelType: manifestTypeDescriptor}, &d)
	if err == nil && !found {
		err = ErrNotFound
	}

	if err != nil {
		return Descriptor{}, fmt.Errorf("vault %q: descriptor: %w", v.dir, err)
	}

	return d, nil
}

// PutRecoveryPointTags records the current tags of recovery point t.ID,
// replacing the earlier record, and commits. An empty tag set is recorded
// too: it says that every tag was removed.
func (v *Vault) PutRecoveryPointTags(ctx context.Context, t RecoveryPointTags) error {
	if t.ID == "" {
		return fmt.Errorf("vault %q: put recovery point tags: %w", v.dir, ErrNotFound)
	}

	if err := v.replaceManifest(ctx, rpTagLabels(t.ID), t); err != nil {
		return fmt.Errorf("vault %q: put tags of recovery point %q: %w", v.dir, t.ID, err)
	}

	return nil
}

// AllRecoveryPointTags returns the recorded tag sets by recovery point id
// (only recovery points whose tags changed after the backup have one).
func (v *Vault) AllRecoveryPointTags(ctx context.Context) (map[string]RecoveryPointTags, error) {
	out := map[string]RecoveryPointTags{}
	err := allManifests(ctx, v, rpTagLabels(""), func(t RecoveryPointTags) { out[t.ID] = t })
	if err != nil {
		return nil, fmt.Errorf("vault %q: recovery point tags: %w", v.dir, err)
	}

	return out, nil
}

// PutRecoveryPointLifecycle records the retention of recovery point l.ID,
// replacing the earlier record, and commits.
func (v *Vault) PutRecoveryPointLifecycle(ctx context.Context, l RecoveryPointLifecycle) error {
	if l.ID == "" {
		return fmt.Errorf("vault %q: put recovery point lifecycle: %w", v.dir, ErrNotFound)
	}

	labels := map[string]string{labelType: manifestTypeRPLifecycle, labelID: l.ID}
	if err := v.replaceManifest(ctx, labels, l); err != nil {
		return fmt.Errorf("vault %q: put lifecycle of recovery point %q: %w", v.dir, l.ID, err)
	}

	return nil
}

// AllRecoveryPointLifecycles returns the recorded retentions by recovery
// point id (only those changed after the backup have one).
func (v *Vault) AllRecoveryPointLifecycles(ctx context.Context) (map[string]RecoveryPointLifecycle, error) {
	out := map[string]RecoveryPointLifecycle{}
	err := allManifests(ctx, v, map[string]string{labelType: manifestTypeRPLifecycle}, func(l RecoveryPointLifecycle) { out[l.ID] = l })
	if err != nil {
		return nil, fmt.Errorf("vault %q: recovery point lifecycles: %w", v.dir, err)
	}

	return out, nil
}

// PutLegalHold records legal hold h with its points in this vault,
// replacing the earlier record of the same hold, and commits.
func (v *Vault) PutLegalHold(ctx context.Context, h LegalHold) error {
	labels := map[string]string{labelType: manifestTypeLegalHold, labelID: h.ID}
	if err := v.replaceManifest(ctx, labels, h); err != nil {
		return fmt.Errorf("vault %q: put legal hold %q: %w", v.dir, h.ID, err)
	}

	return nil
}

// LegalHolds returns the legal holds recorded in this vault.
func (v *Vault) LegalHolds(ctx context.Context) ([]LegalHold, error) {
	byID := map[string]LegalHold{}
	err := allManifests(ctx, v, map[string]string{labelType: manifestTypeLegalHold}, func(h LegalHold) { byID[h.ID] = h })
	if err != nil {
		return nil, fmt.Errorf("vault %q: legal holds: %w", v.dir, err)
	}

	out := make([]LegalHold, 0, len(byID))
	for _, h := range byID {
		out = append(out, h)
	}

	return out, nil
}

// allManifests calls each with the payload of every manifest with labels,
// oldest first (so that, keyed by id, the newest wins).
func allManifests[T any](ctx context.Context, v *Vault, labels map[string]string, each func(T)) error {
	return v.withRepo(ctx, func(r repo.Repository) error { return allManifestsIn(ctx, r, labels, each) })
}

// allManifestsIn is allManifests on an open repository or write session.
func allManifestsIn[T any](ctx context.Context, r repo.Repository, labels map[string]string, each func(T)) error {
	mds, err := r.FindManifests(ctx, labels)
	if err != nil {
		return fmt.Errorf("find manifests: %w", err)
	}

	for _, md := range mds {
		var t T
		if _, err := r.GetManifest(ctx, md.ID, &t); err != nil {
			return fmt.Errorf("read manifest %v: %w", md.ID, err)
		}

		each(t)
	}

	return nil
}

func rpTagLabels(id string) map[string]string {
	l := map[string]string{labelType: manifestTypeRPTags}
	if id != "" {
		l[labelID] = id
	}

	return l
}

// withRepo runs f on the open repository, outside Maintain (kopia may
// compact manifest contents while loading them).
func (v *Vault) withRepo(ctx context.Context, f func(repo.Repository) error) error {
	return v.Repository(ctx, func(r repo.DirectRepository) error { return f(r) })
}

// newestManifest loads the newest manifest with labels into payload and
// reports whether there was one.
func (v *Vault) newestManifest(ctx context.Context, labels map[string]string, payload any) (bool, error) {
	found := false

	err := v.withRepo(ctx, func(r repo.Repository) error {
		mds, err := r.FindManifests(ctx, labels)
		if err != nil || len(mds) == 0 {
			return err
		}

		found = true
		md := manifest.PickLatestID(mds)

		if _, err := r.GetManifest(ctx, md, payload); err != nil {
			return fmt.Errorf("read manifest %v: %w", md, err)
		}

		return nil
	})

	return found, err
}

// replaceManifest writes payload under labels and deletes the manifests
// that had them, in one write session: a crash leaves the old one or the
// new one, never neither.
func (v *Vault) replaceManifest(ctx context.Context, labels map[string]string, payload any) error {
	return v.withRepo(ctx, func(r repo.Repository) error {
		_, w, err := r.NewWriter(ctx, repo.WriteSessionOptions{Purpose: "coffer-describe"})
		if err != nil {
			return err
		}
		defer w.Close(ctx) //nolint:errcheck // nothing left to release on error

		old, err := w.FindManifests(ctx, labels)
		if err != nil {
			return fmt.Errorf("find manifests: %w", err)
		}

		if _, err := w.PutManifest(ctx, labels, payload); err != nil {
			return fmt.Errorf("put manifest: %w", err)
		}

		if err := deleteManifests(ctx, w, old); err != nil {
			return err
		}

		if err := w.Flush(ctx); err != nil {
			return fmt.Errorf("flush: %w", err)
		}

		return nil
	})
}
