package vault

import (
	"context"
	"fmt"
	"io"

	"github.com/kopia/kopia/repo"
)

// Repository runs fn on the open kopia repository under a shared hold of
// the vault's gate, as write sessions and manifest reads take it: fn never
// runs beside Maintain. It is the way to the repository for the packages
// built on the vault (internal/vaultverify, internal/capturelog); whatever
// fn writes must go through a write session of r, so that it stays inside
// the gate.
func (v *Vault) Repository(ctx context.Context, fn func(r repo.DirectRepository) error) error {
	release, err := v.gate.acquireShared(ctx)
	if err != nil {
		return err
	}
	defer release()

	done, err := v.use()
	if err != nil {
		return err
	}
	defer done()

	return fn(v.rep)
}

// RepositoryExclusive runs fn on the open kopia repository under the
// exclusive hold of the vault's gate: it waits (bounded by ctx) for a
// moment when no write session, recovery-point deletion or listing is in
// progress, and holds new ones off until fn returns. It is Maintain's
// (internal/vaultmaint).
func (v *Vault) RepositoryExclusive(ctx context.Context, fn func(r repo.DirectRepository) error) error {
	release, err := v.gate.acquireExclusive(ctx)
	if err != nil {
		return err
	}
	defer release()

	done, err := v.use()
	if err != nil {
		return err
	}
	defer done()

	return fn(v.rep)
}

// RepositoryWriter runs fn on the write session's kopia writer, under the
// session's hold (and so inside the gate hold the Writer took): what fn
// writes becomes visible when the session commits. internal/capturelog
// stores its manifests with it.
func (w *Writer) RepositoryWriter(fn func(rw repo.DirectRepositoryWriter) error) error {
	if err := w.begin(); err != nil {
		return err
	}
	defer w.mu.RUnlock()

	return fn(w.w)
}

// FixedSplitter is kopia's fixed-size splitter of 4 MiB chunks, for
// WriteObjectSplit: about twice the speed of the content-defined default
// on large objects (BenchmarkWriteObject), at the price of deduplicating
// shifted bytes.
const FixedSplitter = "FIXED-4M"

// WriteObjectSplit is WriteObject with the kopia splitter named (""
// is the repository's): the capture log keeps its streams in small
// contents, a backup with fixed chunks uses FixedSplitter.
func (w *Writer) WriteObjectSplit(ctx context.Context, r io.Reader, splitter string) (ObjectID, int64, error) {
	return w.writeObject(ctx, r, splitter)
}

// Dir is the vault's directory (absolute).
func (v *Vault) Dir() string { return v.dir }

// CacheDir is the directory of the vault's local caches, "" if it has
// none (a vault on a file system).
func (v *Vault) CacheDir() string { return kopiaCacheDir(v.dir, v.opts) }

// Options returns the options the vault was opened with.
func (v *Vault) Options() Options { return v.opts }

// Manifest labels for the packages that read the repository through
// Repository: kopia's type label and a recovery point's id label.
const (
	LabelType = labelType
	LabelID   = labelID
)

// CaptureManifestPrefix starts the type of every manifest of the capture
// log of continuous recovery points (docs/format.md, "Capture log"). The
// vault stores them for internal/capturelog, which owns their payloads;
// the prefix keeps that package away from the vault's own manifest types.
//
// Maintenance marks what they reference, without knowing their formats: a
// capture manifest's payload may name a stream in "object", and a stream
// is JSON values (a header, then records) whose "data" fields name data
// objects.
const CaptureManifestPrefix = "coffer-capture-"

// RecoveryPointLabels are the labels of recovery point id's manifests;
// with id "", of every recovery point's.
func RecoveryPointLabels(id string) map[string]string { return rpLabels(id) }

// RecoveryPointLifecyclesIn reads, from an open repository or write
// session, the retentions changed after the backup, by recovery point id.
func RecoveryPointLifecyclesIn(ctx context.Context, r repo.Repository) (map[string]RecoveryPointLifecycle, error) {
	out := map[string]RecoveryPointLifecycle{}

	err := allManifestsIn(ctx, r, map[string]string{labelType: manifestTypeRPLifecycle},
		func(l RecoveryPointLifecycle) { out[l.ID] = l })
	if err != nil {
		return nil, fmt.Errorf("recovery point lifecycles: %w", err)
	}

	return out, nil
}
