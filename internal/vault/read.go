package vault

import (
	"context"
	"fmt"
	"io"
	"sort"

	"github.com/kopia/kopia/repo"
	"github.com/kopia/kopia/repo/manifest"
	"github.com/kopia/kopia/repo/object"

	"github.com/cofferbackup/coffer/internal/recpoint"
)

// OpenObject opens a stored object for reading. ctx must stay valid while
// the reader is used. Reads fail once the vault is closed.
func (v *Vault) OpenObject(ctx context.Context, id ObjectID) (io.ReadSeekCloser, error) {
	r, err := v.openObject(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("vault %q: open object %q: %w", v.dir, id, err)
	}

	return r, nil
}

func (v *Vault) openObject(ctx context.Context, id ObjectID) (io.ReadSeekCloser, error) {
	oid, err := object.ParseID(string(id))
	if err != nil {
		return nil, fmt.Errorf("invalid object id: %w", err)
	}

	done, err := v.use()
	if err != nil {
		return nil, err
	}
	defer done()

	r, err := v.rep.OpenObject(ctx, oid)
	if isNotFound(err) {
		return nil, fmt.Errorf("%w: %w", ErrNotFound, err)
	}

	if err != nil {
		return nil, err
	}

	return &objectReader{v: v, r: r}, nil
}

// objectReader guards an object reader against use after the vault closed.
type objectReader struct {
	v *Vault
	r object.Reader
}

func (o *objectReader) Read(p []byte) (int, error) {
	done, err := o.v.use()
	if err != nil {
		return 0, err
	}
	defer done()

	return o.r.Read(p) //nolint:wrapcheck // io.EOF must stay unwrapped
}

func (o *objectReader) Seek(offset int64, whence int) (int64, error) {
	done, err := o.v.use()
	if err != nil {
		return 0, err
	}
	defer done()

	return o.r.Seek(offset, whence)
}

func (o *objectReader) Close() error { return o.r.Close() }

// RecoveryPoints lists the registered recovery points, oldest first (by
// CreatedAt, then ID). Like RecoveryPoint and DeleteRecoveryPoint it waits
// while Maintain runs.
func (v *Vault) RecoveryPoints(ctx context.Context) ([]recpoint.Manifest, error) {
	ms, err := v.findRecoveryPoints(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("vault %q: list recovery points: %w", v.dir, err)
	}

	out := make([]recpoint.Manifest, 0, len(ms))
	for _, m := range ms {
		out = append(out, m)
	}

	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}

		return out[i].ID < out[j].ID
	})

	return out, nil
}

// RecoveryPoint returns one recovery point's manifest (ErrNotFound if none).
func (v *Vault) RecoveryPoint(ctx context.Context, id string) (recpoint.Manifest, error) {
	if id == "" {
		return recpoint.Manifest{}, fmt.Errorf("vault %q: recovery point %q: %w", v.dir, id, ErrNotFound)
	}

	ms, err := v.findRecoveryPoints(ctx, id)
	if err != nil {
		return recpoint.Manifest{}, fmt.Errorf("vault %q: recovery point %q: %w", v.dir, id, err)
	}

	m, ok := ms[id]
	if !ok {
		return recpoint.Manifest{}, fmt.Errorf("vault %q: recovery point %q: %w", v.dir, id, ErrNotFound)
	}

	return m, nil
}

// findRecoveryPoints loads recovery-point manifests (all, or those with the
// given id), keyed by recovery point id; of duplicates (one id put by two
// sessions) the newest wins.
func (v *Vault) findRecoveryPoints(ctx context.Context, id string) (ms map[string]recpoint.Manifest, err error) {
	err = v.withRepo(ctx, func(repo.Repository) error {
		ms, err = loadRecoveryPoints(ctx, v.rep, id)
		if _, ok := ms[id]; err != nil || id == "" || ok {
			return err
		}
		// Another process (or server) sharing the vault may have written
		// it since this handle last read the index: look again.
		if err := v.rep.Refresh(ctx); err != nil {
			return fmt.Errorf("refresh index: %w", err)
		}
		ms, err = loadRecoveryPoints(ctx, v.rep, id)
		return err
	})
	return ms, err
}

// loadRecoveryPoints reads recovery-point manifests from r.
func loadRecoveryPoints(ctx context.Context, r repo.Repository, id string) (map[string]recpoint.Manifest, error) {
	mds, err := r.FindManifests(ctx, rpLabels(id))
	if err != nil {
		return nil, fmt.Errorf("find manifests: %w", err)
	}

	// FindManifests sorts by modification time, oldest first.
	out := make(map[string]recpoint.Manifest, len(mds))

	for _, md := range mds {
		var m recpoint.Manifest
		if _, err := r.GetManifest(ctx, md.ID, &m); err != nil {
			return nil, fmt.Errorf("read manifest %v: %w", md.ID, err)
		}

		out[m.ID] = m
	}

	return out, nil
}

// DeleteRecoveryPoint unregisters a recovery point; its space is reclaimed
// by the next Maintain.
func (v *Vault) DeleteRecoveryPoint(ctx context.Context, id string) error {
	if err := v.deleteRecoveryPoint(ctx, id); err != nil {
		return fmt.Errorf("vault %q: delete recovery point %q: %w", v.dir, id, err)
	}

	return nil
}

func (v *Vault) deleteRecoveryPoint(ctx context.Context, id string) error {
	if id == "" {
		return ErrNotFound
	}

	return v.withRepo(ctx, func(r repo.Repository) error { return deleteRecoveryPointIn(ctx, r, id) })
}

// deleteRecoveryPointIn deletes recovery point id's manifests (and its
// later tags and lifecycle) from r in one write session.
func deleteRecoveryPointIn(ctx context.Context, r repo.Repository, id string) error {
	_, w, err := r.NewWriter(ctx, repo.WriteSessionOptions{Purpose: "coffer-delete"})
	if err != nil {
		return err
	}
	defer w.Close(ctx) //nolint:errcheck // nothing left to release on error

	mds, err := w.FindManifests(ctx, rpLabels(id))
	if err != nil {
		return fmt.Errorf("find manifests: %w", err)
	}

	if len(mds) == 0 {
		return ErrNotFound
	}

	// The recovery point's later tags and lifecycle go with it (same
	// session).
	tags, err := w.FindManifests(ctx, rpTagLabels(id))
	if err != nil {
		return fmt.Errorf("find manifests: %w", err)
	}

	lcs, err := w.FindManifests(ctx, map[string]string{labelType: manifestTypeRPLifecycle, labelID: id})
	if err != nil {
		return fmt.Errorf("find manifests: %w", err)
	}

	if err := deleteManifests(ctx, w, append(append(mds, tags...), lcs...)); err != nil {
		return err
	}

	if err := w.Flush(ctx); err != nil {
		return fmt.Errorf("flush: %w", err)
	}

	return nil
}

func deleteManifests(ctx context.Context, w repo.RepositoryWriter, mds []*manifest.EntryMetadata) error {
	for _, md := range mds {
		if err := w.DeleteManifest(ctx, md.ID); err != nil {
			return fmt.Errorf("delete manifest %v: %w", md.ID, err)
		}
	}

	return nil
}
