package vault

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/kopia/kopia/repo/content"
	"github.com/kopia/kopia/repo/object"

	"github.com/cofferbackup/coffer/internal/recpoint"
)

// mark records in r.live every content reachable from a live recovery
// point: the contents of its record stream object and of every record's
// data object. Any failure (unreadable manifest or record stream, missing
// content) aborts Maintain before anything is deleted.
func (r *maintenanceRun) mark(ctx context.Context) error {
	r.live = map[content.ID]struct{}{}
	seenIndirect := map[string]struct{}{}

	mds, err := r.w.FindManifests(ctx, rpLabels(""))
	if err != nil {
		return fmt.Errorf("find manifests: %w", err)
	}

	ids := map[string]struct{}{}

	// Every manifest is marked, duplicates of one id included.
	for _, md := range mds {
		var m recpoint.Manifest
		if _, err := r.w.GetManifest(ctx, md.ID, &m); err != nil {
			return fmt.Errorf("read manifest %v: %w", md.ID, err)
		}

		if err := r.markRecoveryPoint(ctx, m, seenIndirect); err != nil {
			return fmt.Errorf("recovery point %q: %w", m.ID, err)
		}

		ids[m.ID] = struct{}{}
	}

	r.st.LiveRecoveryPoints = len(ids)
	r.st.LiveContents = int64(len(r.live))

	return nil
}

func (r *maintenanceRun) markRecoveryPoint(ctx context.Context, m recpoint.Manifest, seen map[string]struct{}) error {
	roid, err := object.ParseID(m.Records)
	if err != nil {
		return fmt.Errorf("records object %q: %w", m.Records, err)
	}

	if err := r.markObject(ctx, roid, seen); err != nil {
		return fmt.Errorf("records object %q: %w", m.Records, err)
	}

	or, err := r.w.OpenObject(ctx, roid)
	if err != nil {
		return fmt.Errorf("open records %q: %w", m.Records, err)
	}
	defer or.Close() //nolint:errcheck // read-only

	rd, err := recpoint.NewReader(or)
	if err != nil {
		return fmt.Errorf("records %q: %w", m.Records, err)
	}

	for {
		var rec recpoint.Record

		err := rd.Next(&rec)
		if errors.Is(err, io.EOF) {
			return nil
		}

		if err != nil {
			return fmt.Errorf("records %q: %w", m.Records, err)
		}

		if rec.Data == "" {
			continue
		}

		oid, err := object.ParseID(rec.Data)
		if err != nil {
			return fmt.Errorf("record %q data %q: %w", rec.Key, rec.Data, err)
		}

		if err := r.markObject(ctx, oid, seen); err != nil {
			return fmt.Errorf("record %q data %q: %w", rec.Key, rec.Data, err)
		}
	}
}

// markObject marks the backing contents of oid. kopia's VerifyObject lists
// them (for an indirect object: its seek-table contents, recursively, and
// every chunk) and checks each exists in the index. An indirect object
// already marked is skipped; so is a single-content object whose content
// is already marked. A live content found deleted is undeleted.
func (r *maintenanceRun) markObject(ctx context.Context, oid object.ID, seen map[string]struct{}) error {
	if _, indirect := oid.IndexObjectID(); indirect {
		key := oid.String()
		if _, ok := seen[key]; ok {
			return nil
		}

		seen[key] = struct{}{}
	} else if cid, _, ok := oid.ContentID(); ok {
		if _, ok := r.live[cid]; ok {
			return nil
		}
	}

	cids, err := r.w.VerifyObject(ctx, oid)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}

	for _, cid := range cids {
		if _, ok := r.live[cid]; ok {
			continue
		}

		info, err := r.w.ContentInfo(ctx, cid)
		if err != nil {
			return fmt.Errorf("content %v: %w", cid, err)
		}

		if info.Deleted {
			if err := r.w.ContentManager().UndeleteContent(ctx, cid); err != nil {
				return fmt.Errorf("undelete content %v: %w", cid, err)
			}

			r.st.UndeletedContents++
		}

		r.live[cid] = struct{}{}
	}

	return nil
}
