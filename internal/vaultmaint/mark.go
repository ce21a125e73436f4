package vaultmaint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/kopia/kopia/repo/content"
	"github.com/kopia/kopia/repo/content/index"
	"github.com/kopia/kopia/repo/maintenancestats"
	"github.com/kopia/kopia/repo/object"

	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/vault"
)

// mark records in r.live every content reachable from a live recovery
// point: the contents of its record stream object and of every record's
// data object; likewise for the capture log's manifests (markCaptureLog). Any failure (unreadable manifest or record stream, missing
// content) aborts Maintain before anything is deleted.
//
// The manifests read are those committed when RunExclusive refreshed the
// index: a recovery point committed later by another process is not seen,
// which the safety margins cover (its new contents are too young to sweep,
// and the next run undeletes any older content it reuses).
func (r *maintenanceRun) mark(ctx context.Context) error {
	r.live = map[content.ID]struct{}{}
	seenIndirect := map[string]struct{}{}

	mds, err := r.w.FindManifests(ctx, vault.RecoveryPointLabels(""))
	if err != nil {
		return fmt.Errorf("find manifests: %w", err)
	}

	ids := map[string]struct{}{}

	if r.lifecycles, err = vault.RecoveryPointLifecyclesIn(ctx, r.w); err != nil {
		return err
	}

	// Every manifest is marked, duplicates of one id included.
	for _, md := range mds {
		var m recpoint.Manifest
		if _, err := r.w.GetManifest(ctx, md.ID, &m); err != nil {
			return fmt.Errorf("read manifest %v: %w", md.ID, err)
		}

		if err := r.markRecoveryPoint(ctx, m, seenIndirect); err != nil {
			return fmt.Errorf("recovery point %q: %w", m.ID, err)
		}

		r.noteDeleteAt(m)

		ids[m.ID] = struct{}{}
	}

	if err := r.markCaptureLog(ctx, seenIndirect); err != nil {
		return err
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
// every chunk) and checks each is in the index (deleted or not: the sweep
// undeletes). An indirect object already marked is skipped; so is a
// single-content object whose content is already marked.
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
		r.live[cid] = struct{}{}
	}

	return nil
}

// sweepRanges are the contents coffer's object writers produce:
// unprefixed data contents and the 'x' index (seek table) contents of
// multi-chunk objects. kopia's own contents (manifests, ...) use other
// prefixes and are never swept.
var sweepRanges = []content.IDRange{index.AllNonPrefixedIDs, index.PrefixRange(indirectPrefix)} //nolint:gochecknoglobals // constant table

const indirectPrefix content.IDPrefix = "x"

// markAndSweep is coffer's replacement for kopia's snapshot GC (and is
// recorded under its task name): mark, then mark deleted every
// unreachable content at least safety.MinContentAgeSubjectToGC older than
// the maintenance start, and undelete every reachable content found
// deleted. A content is only marked deleted here; kopia's drop-deleted
// task forgets it later, once two such runs have passed (SafetyFull).
func (r *maintenanceRun) markAndSweep(ctx context.Context, start time.Time) (*maintenancestats.SnapshotGCStats, error) {
	if err := r.mark(ctx); err != nil {
		return nil, fmt.Errorf("mark: %w", err)
	}

	var (
		garbage, undelete []content.ID
		gs                maintenancestats.SnapshotGCStats
	)

	// Collect first: changing the index while iterating it could deadlock.
	collect := func(ci content.Info) error {
		size := uint64(ci.PackedLength)

		_, live := r.live[ci.ContentID]

		switch {
		case live:
			gs.InUseContentCount++
			gs.InUseContentSize += size

			if ci.Deleted {
				undelete = append(undelete, ci.ContentID)
			}
		case ci.Deleted:
		case r.safety.MinContentAgeSubjectToGC > 0 && start.Sub(ci.Timestamp()) < r.safety.MinContentAgeSubjectToGC:
			// Without a margin, a content stamped a second ahead of the
			// start (kopia does so) is not young.
			gs.UnreferencedRecentContentCount++
			gs.UnreferencedRecentContentSize += size
		default:
			gs.UnreferencedContentCount++
			gs.UnreferencedContentSize += size
			garbage = append(garbage, ci.ContentID)
			r.maxDeleted = max(r.maxDeleted, ci.TimestampSeconds+1, r.w.Time().Unix())
		}

		return nil
	}

	for _, rng := range sweepRanges {
		if err := r.w.ContentReader().IterateContents(ctx, content.IterateOptions{Range: rng, IncludeDeleted: true}, collect); err != nil {
			return nil, fmt.Errorf("iterate contents: %w", err)
		}
	}

	if err := r.apply(ctx, garbage, undelete); err != nil {
		return nil, err
	}

	gs.DeletedContentCount, gs.DeletedContentSize = uint64(len(garbage)), gs.UnreferencedContentSize
	gs.RecoveredContentCount = uint64(len(undelete))
	r.st.DeletedContents = int64(len(garbage))
	r.st.UndeletedContents = int64(len(undelete))
	r.st.RecentContents = int64(gs.UnreferencedRecentContentCount) //nolint:gosec // counts fit

	return &gs, nil
}

// apply undeletes and deletes, then flushes so that the changes are
// committed before kopia's tasks read the index.
func (r *maintenanceRun) apply(ctx context.Context, garbage, undelete []content.ID) error {
	cm := r.w.ContentManager()

	for _, id := range undelete {
		if err := cm.UndeleteContent(ctx, id); err != nil {
			return fmt.Errorf("undelete content %v: %w", id, err)
		}
	}

	for _, id := range garbage {
		if err := cm.DeleteContent(ctx, id); err != nil {
			return fmt.Errorf("delete content %v: %w", id, err)
		}
	}

	if err := r.w.Flush(ctx); err != nil {
		return fmt.Errorf("flush: %w", err)
	}

	return nil
}
