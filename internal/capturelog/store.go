package capturelog

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/kopia/kopia/repo"

	"github.com/cofferbackup/coffer/internal/vault"
)

// The capture log's storage in a vault: its streams and manifests, kept
// through the vault's write sessions and its gate-held repository
// accessor, under manifest types that start with
// vault.CaptureManifestPrefix (which maintenance marks).

// captureSplitter cuts capture-log streams into contents of ~128 KiB
// (content-defined, so successive checkpoints still deduplicate): a
// reader of an object holds one whole content in memory, and a restore
// merges dozens of streams at once, so the default ~4 MiB contents would
// make its memory the sum of the segments' sizes.
const captureSplitter = "DYNAMIC-128K-BUZHASH"

// writeStream stores a capture-log stream (a segment or a checkpoint)
// like vault.Writer.WriteObject, in small contents.
func writeStream(ctx context.Context, w *vault.Writer, r io.Reader) (vault.ObjectID, int64, error) {
	return w.WriteObjectSplit(ctx, r, captureSplitter)
}

func captureLabels(typ string, labels map[string]string) (map[string]string, error) {
	if !strings.HasPrefix(typ, vault.CaptureManifestPrefix) {
		return nil, fmt.Errorf("manifest type %q is not a capture log type", typ)
	}

	l := make(map[string]string, len(labels)+1)
	for k, v := range labels {
		l[k] = v
	}

	l[vault.LabelType] = typ

	return l, nil
}

// putManifest registers a capture-log manifest of type typ (which must
// start with vault.CaptureManifestPrefix) with labels and a JSON payload;
// like a recovery point it becomes visible when the session commits.
func putManifest(ctx context.Context, w *vault.Writer, typ string, labels map[string]string, payload any) error {
	l, err := captureLabels(typ, labels)
	if err != nil {
		return fmt.Errorf("put capture manifest: %w", err)
	}

	err = w.RepositoryWriter(func(rw repo.DirectRepositoryWriter) error {
		if _, err := rw.PutManifest(ctx, l, payload); err != nil {
			return fmt.Errorf("%v: %w", l, err)
		}

		return nil
	})
	if err != nil {
		return fmt.Errorf("put capture manifest: %w", err)
	}

	return nil
}

// DeleteManifests deletes, when the session commits, the capture-log
// manifests of type typ that carry all of labels, and returns how many
// there were.
func DeleteManifests(ctx context.Context, w *vault.Writer, typ string, labels map[string]string) (int, error) {
	l, err := captureLabels(typ, labels)
	if err != nil {
		return 0, fmt.Errorf("delete capture manifests: %w", err)
	}

	n := 0

	err = w.RepositoryWriter(func(rw repo.DirectRepositoryWriter) error {
		mds, err := rw.FindManifests(ctx, l)
		if err != nil {
			return fmt.Errorf("%v: find: %w", l, err)
		}

		for _, md := range mds {
			if err := rw.DeleteManifest(ctx, md.ID); err != nil {
				return fmt.Errorf("%v: delete manifest %v: %w", l, md.ID, err)
			}
		}

		n = len(mds)

		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("delete capture manifests: %w", err)
	}

	return n, nil
}

// manifests returns the payloads of the committed capture-log manifests
// of type typ that carry all of labels, oldest first. It reads manifests
// only, never the objects they describe.
func manifests(ctx context.Context, v *vault.Vault, typ string, labels map[string]string) ([]json.RawMessage, error) {
	l, err := captureLabels(typ, labels)
	if err != nil {
		return nil, fmt.Errorf("vault %q: capture manifests: %w", v.Dir(), err)
	}

	var out []json.RawMessage

	err = v.Repository(ctx, func(r repo.DirectRepository) error {
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
		return nil, fmt.Errorf("vault %q: capture manifests %v: %w", v.Dir(), l, err)
	}

	return out, nil
}
