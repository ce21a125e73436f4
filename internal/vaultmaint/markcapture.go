package vaultmaint

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/kopia/kopia/repo/object"

	"github.com/cofferbackup/coffer/internal/vault"
)

// markCaptureLog marks, for every capture-log manifest, its stream object
// and the data objects the stream's records name (see
// vault.CaptureManifestPrefix). Any failure aborts Maintain, as for recovery
// points.
func (r *maintenanceRun) markCaptureLog(ctx context.Context, seen map[string]struct{}) error {
	mds, err := r.w.FindManifests(ctx, map[string]string{})
	if err != nil {
		return fmt.Errorf("find capture manifests: %w", err)
	}

	for _, md := range mds {
		if !strings.HasPrefix(md.Labels[vault.LabelType], vault.CaptureManifestPrefix) {
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
			return fmt.Errorf("%s manifest %v: stream %q: %w", md.Labels[vault.LabelType], md.ID, p.Object, err)
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
