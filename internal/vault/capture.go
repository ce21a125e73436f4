package vault

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/kopia/kopia/repo"
	"github.com/kopia/kopia/repo/object"
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

// captureSplitter cuts capture-log streams into contents of ~128 KiB
// (content-defined, so successive checkpoints still deduplicate): a
// reader of an object holds one whole content in memory, and a restore
// merges dozens of streams at once, so the default ~4 MiB contents would
// make its memory the sum of the segments' sizes.
const captureSplitter = "DYNAMIC-128K-BUZHASH"

// WriteCaptureObject stores a capture-log stream (a segment or a
// checkpoint) like WriteObject, in small contents.
func (w *Writer) WriteCaptureObject(ctx context.Context, r io.Reader) (ObjectID, int64, error) {
	return w.writeObject(ctx, r, captureSplitter)
}

func captureLabels(typ string, labels map[string]string) (map[string]string, error) {
	if !strings.HasPrefix(typ, CaptureManifestPrefix) {
		return nil, fmt.Errorf("manifest type %q is not a capture log type", typ)
	}

	l := make(map[string]string, len(labels)+1)
	for k, v := range labels {
		l[k] = v
	}

	l[labelType] = typ

	return l, nil
}

// PutCaptureManifest registers a capture-log manifest of type typ (which
// must start with CaptureManifestPrefix) with labels and a JSON payload;
// like a recovery point it becomes visible when the session commits.
func (w *Writer) PutCaptureManifest(ctx context.Context, typ string, labels map[string]string, payload any) error {
	l, err := captureLabels(typ, labels)
	if err != nil {
		return fmt.Errorf("put capture manifest: %w", err)
	}

	if err := w.begin(); err != nil {
		return fmt.Errorf("put capture manifest: %w", err)
	}
	defer w.mu.RUnlock()

	if _, err := w.w.PutManifest(ctx, l, payload); err != nil {
		return fmt.Errorf("put capture manifest %v: %w", l, err)
	}

	return nil
}

// DeleteCaptureManifests deletes, when the session commits, the
// capture-log manifests of type typ that carry all of labels, and returns
// how many there were.
func (w *Writer) DeleteCaptureManifests(ctx context.Context, typ string, labels map[string]string) (int, error) {
	l, err := captureLabels(typ, labels)
	if err != nil {
		return 0, fmt.Errorf("delete capture manifests: %w", err)
	}

	if err := w.begin(); err != nil {
		return 0, fmt.Errorf("delete capture manifests: %w", err)
	}
	defer w.mu.RUnlock()

	mds, err := w.w.FindManifests(ctx, l)
	if err != nil {
		return 0, fmt.Errorf("delete capture manifests %v: find: %w", l, err)
	}

	if err := deleteManifests(ctx, w.w, mds); err != nil {
		return 0, fmt.Errorf("delete capture manifests %v: %w", l, err)
	}

	return len(mds), nil
}

// CaptureManifests returns the payloads of the committed capture-log
// manifests of type typ that carry all of labels, oldest first. It reads
// manifests only, never the objects they describe.
func (v *Vault) CaptureManifests(ctx context.Context, typ string, labels map[string]string) ([]json.RawMessage, error) {
	l, err := captureLabels(typ, labels)
	if err != nil {
		return nil, fmt.Errorf("vault %q: capture manifests: %w", v.dir, err)
	}

	var out []json.RawMessage

	err = v.withRepo(ctx, func(r repo.Repository) error {
		mds, err := r.FindManifests(ctx, l)
		if err != nil {
			return fmt.Errorf("find manifests: %w", err)
		}

		out = make([]json.RawMessage, 0, len(mds))

		for _, md := range mds { // FindManifests sorts oldest first
			var raw json.RawMessage
			if _, err := r.GetManifest(ctx, md.ID, &raw); err != nil {
				return fmt.Errorf("read manifest %v: %w", md.ID, err)
			}

			out = append(out, raw)
		}

		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("vault %q: capture manifests %v: %w", v.dir, l, err)
	}

	return out, nil
}

// markCaptureLog marks, for every capture-log manifest, its stream object
// and the data objects the stream's records name (see
// CaptureManifestPrefix). Any failure aborts Maintain, as for recovery
// points.
func (r *maintenanceRun) markCaptureLog(ctx context.Context, seen map[string]struct{}) error {
	mds, err := r.w.FindManifests(ctx, map[string]string{})
	if err != nil {
		return fmt.Errorf("find capture manifests: %w", err)
	}

	for _, md := range mds {
		if !strings.HasPrefix(md.Labels[labelType], CaptureManifestPrefix) {
			continue
		}

		var p struct {
			Object string `json:"object"`
		}

		if _, err := r.w.GetManifest(ctx, md.ID, &p); err != nil {
			return fmt.Errorf("read manifest %v: %w", md.ID, err)
		}

		if p.Object == "" {
			continue
		}

		if err := r.markStream(ctx, p.Object, seen); err != nil {
			return fmt.Errorf("%s manifest %v: stream %q: %w", md.Labels[labelType], md.ID, p.Object, err)
		}
	}

	return nil
}

// markStream marks a capture-log stream object and every "data" object of
// its records.
func (r *maintenanceRun) markStream(ctx context.Context, id string, seen map[string]struct{}) error {
	oid, err := object.ParseID(id)
	if err != nil {
		return err
	}

	if err := r.markObject(ctx, oid, seen); err != nil {
		return err
	}

	or, err := r.w.OpenObject(ctx, oid)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	defer or.Close() //nolint:errcheck // read-only

	dec := json.NewDecoder(bufio.NewReaderSize(or, 32<<10))

	for first := true; ; first = false {
		var rec struct {
			Key  string `json:"k"`
			Data string `json:"data"`
		}

		err := dec.Decode(&rec)
		if errors.Is(err, io.EOF) {
			return nil
		}

		if err != nil {
			return fmt.Errorf("read: %w", err)
		}

		if first || rec.Data == "" { // the header names no object
			continue
		}

		doid, err := object.ParseID(rec.Data)
		if err != nil {
			return fmt.Errorf("record %q data %q: %w", rec.Key, rec.Data, err)
		}

		if err := r.markObject(ctx, doid, seen); err != nil {
			return fmt.Errorf("record %q data %q: %w", rec.Key, rec.Data, err)
		}
	}
}
