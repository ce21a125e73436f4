package vault

import (
	"context"
	"fmt"
	"time"

	"github.com/kopia/kopia/repo"
	"github.com/kopia/kopia/repo/blob"
	"github.com/kopia/kopia/repo/content"
	"github.com/kopia/kopia/repo/content/index"
	"github.com/kopia/kopia/repo/content/indexblob"
	"github.com/kopia/kopia/repo/maintenance"
)

// MaintenanceStats reports what Maintain did.
type MaintenanceStats struct {
	LiveRecoveryPoints int   // distinct recovery point ids found
	LiveContents       int64 // contents reachable from live recovery points
	DeletedContents    int64 // unreachable contents deleted by this run
	DeletedBlobs       int64 // pack and stale session blobs removed from storage
	FreedBytes         int64 // net decrease of stored bytes (before - after)

	// RewrittenContents/RewrittenBytes: live contents copied out of packs
	// that were mostly garbage or short, so that those packs could go.
	RewrittenContents int64
	RewrittenBytes    int64
	// UndeletedContents: contents a live recovery point needs that were
	// found marked deleted and were restored (should always be 0).
	UndeletedContents int64
}

// Pack compaction policy.
const (
	// A pack whose deleted share reaches this percentage of its bytes has
	// its live contents rewritten so that the pack can be removed.
	compactDeadPercent = 10
	// Packs with less live data than this percentage of the maximum pack
	// size are short; two or more short packs of a kind are consolidated.
	shortPackPercent = 60

	// indirectPrefix is the content prefix kopia's object writer gives the
	// index (seek table) contents of multi-chunk objects. Together with
	// unprefixed data contents these are the only contents our object
	// writers produce; kopia's own metadata ('m' manifests, ...) uses
	// other prefixes and is never swept.
	indirectPrefix content.IDPrefix = "x"

	// maxSettle bounds the wait for the clock to pass deletion timestamps.
	maxSettle = 5 * time.Second
)

// Maintain reclaims space: it marks every content reachable from a live
// recovery point and sweeps the rest. It never runs kopia's snapshot GC.
//
// Contract: callers must not run a Writer concurrently with Maintain on the
// same vault. Maintain uses kopia's maintenance functions with zero safety
// margins (deleted contents are forgotten and unreferenced packs removed at
// once), which is only correct while nothing else writes to the
// repository. Within one Vault handle this is enforced: Maintain waits
// (bounded by ctx) for a moment when no write session, recovery-point
// deletion or listing is in progress, and holds new ones off while it runs
// (a Writer that is never finished keeps Maintain waiting until ctx ends).
// Across handles or processes sharing a vault (e.g. on S3) the caller must
// guarantee it: open one Vault per directory per process, and run Maintain
// only where no other process writes to the vault. Readers returned by
// OpenObject are not held off; a read racing with the removal of a
// compacted pack may fail and can be retried.
//
// Steps: mark the record stream object of each live recovery point and the
// data object of each of its records (kopia's object verification lists
// all backing contents, indirect objects included); sweep (delete unmarked
// unprefixed and 'x' contents); rewrite live contents out of mostly-dead
// and short packs; advance the index deletion watermark so that deleted
// contents are dropped from the index; delete unreferenced pack blobs; run
// kopia's epoch index housekeeping. An error before the sweep leaves the
// vault unchanged; an error later leaves it consistent, with some space not
// yet reclaimed.
func (v *Vault) Maintain(ctx context.Context) (MaintenanceStats, error) {
	st, err := v.maintain(ctx)
	if err != nil {
		return st, fmt.Errorf("vault %q: maintain: %w", v.dir, err)
	}

	return st, nil
}

// maintenanceRun is the state of one Maintain call.
type maintenanceRun struct {
	w  repo.DirectRepositoryWriter
	st MaintenanceStats

	live       map[content.ID]struct{}
	hasDeleted bool  // the index holds deleted contents not yet dropped
	maxDeleted int64 // newest deletion timestamp (unix seconds) in the index
}

func (v *Vault) maintain(ctx context.Context) (MaintenanceStats, error) {
	release, err := v.gate.acquireExclusive(ctx)
	if err != nil {
		return MaintenanceStats{}, err
	}
	defer release()

	done, err := v.use()
	if err != nil {
		return MaintenanceStats{}, err
	}
	defer done()

	_, w, err := v.rep.NewDirectWriter(ctx, repo.WriteSessionOptions{Purpose: "coffer-maintain"})
	if err != nil {
		return MaintenanceStats{}, err
	}
	defer w.Close(ctx) //nolint:errcheck // nothing left to release on error

	run := &maintenanceRun{w: w}
	err = run.run(ctx)

	return run.st, err
}

func (r *maintenanceRun) run(ctx context.Context) error {
	// See what other processes committed.
	if err := r.w.Refresh(ctx); err != nil {
		return fmt.Errorf("refresh: %w", err)
	}

	before, err := storedBytes(ctx, r.w.BlobReader())
	if err != nil {
		return err
	}

	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"mark", r.mark},
		{"sweep", r.sweep},
		{"compact packs", r.compactPacks},
		{"drop deleted contents", r.dropDeleted},
		{"delete unreferenced packs", r.deletePacks},
		{"epoch housekeeping", r.epochHousekeeping},
		{"settle", r.settle},
	}

	for _, s := range steps {
		if err := s.fn(ctx); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}

	after, err := storedBytes(ctx, r.w.BlobReader())
	if err != nil {
		return err
	}

	r.st.FreedBytes = before - after

	return nil
}

// sweep deletes every unprefixed or indirect-index content that is not
// live, then flushes so that the deletions (and any repairs made by mark)
// are committed.
func (r *maintenanceRun) sweep(ctx context.Context) error {
	var garbage []content.ID

	collect := func(ci content.Info) error {
		if _, ok := r.live[ci.ContentID]; !ok {
			garbage = append(garbage, ci.ContentID)
		}

		return nil
	}

	// Collect first: deleting while iterating could deadlock on an index
	// refresh.
	for _, rng := range []content.IDRange{index.AllNonPrefixedIDs, index.PrefixRange(indirectPrefix)} {
		if err := r.w.ContentReader().IterateContents(ctx, content.IterateOptions{Range: rng}, collect); err != nil {
			return fmt.Errorf("iterate contents: %w", err)
		}
	}

	for _, id := range garbage {
		if err := r.w.ContentManager().DeleteContent(ctx, id); err != nil {
			return fmt.Errorf("delete content %v: %w", id, err)
		}

		r.st.DeletedContents++
	}

	if err := r.w.Flush(ctx); err != nil {
		return fmt.Errorf("flush: %w", err)
	}

	return nil
}

// packUsage is the live and deleted content of one pack blob.
type packUsage struct {
	live, dead int64
	liveIDs    []content.ID
}

// compactPacks rewrites the live contents of packs that are mostly deleted
// content (so the packs become unreferenced once deleted contents are
// dropped) and of short packs (consolidation), using kopia's
// RewriteContents. It also finds the newest deletion timestamp.
func (r *maintenanceRun) compactPacks(ctx context.Context) error {
	mp, err := r.w.ContentReader().ContentFormat().GetMutableParameters(ctx)
	if err != nil {
		return fmt.Errorf("format parameters: %w", err)
	}

	packs := map[blob.ID]*packUsage{}

	err = r.w.ContentReader().IterateContents(ctx, content.IterateOptions{IncludeDeleted: true}, func(ci content.Info) error {
		p := packs[ci.PackBlobID]
		if p == nil {
			p = &packUsage{}
			packs[ci.PackBlobID] = p
		}

		if ci.Deleted {
			p.dead += int64(ci.PackedLength)
			r.hasDeleted = true
			r.maxDeleted = max(r.maxDeleted, ci.TimestampSeconds)

			return nil
		}

		p.live += int64(ci.PackedLength)
		p.liveIDs = append(p.liveIDs, ci.ContentID)

		return nil
	})
	if err != nil {
		return fmt.Errorf("iterate contents: %w", err)
	}

	ids := selectRewrites(packs, int64(mp.MaxPackSize)*shortPackPercent/100)
	if len(ids) == 0 {
		return nil
	}

	rs, err := maintenance.RewriteContents(ctx, r.w, &maintenance.RewriteContentsOptions{ContentIDs: ids}, maintenance.SafetyNone)
	if err != nil {
		return fmt.Errorf("rewrite contents: %w", err)
	}

	r.st.RewrittenContents = int64(rs.RewrittenContentCount) //nolint:gosec // counts fit
	r.st.RewrittenBytes = int64(rs.RewrittenContentSize)     //nolint:gosec // sizes fit

	return nil
}

// selectRewrites picks the live contents to rewrite: those of packs whose
// deleted share reaches compactDeadPercent, and those of short packs when a
// pack prefix ('p' data, 'q' metadata) has at least two short ones.
func selectRewrites(packs map[blob.ID]*packUsage, shortBytes int64) []content.ID {
	var ids []content.ID

	short := map[byte][]*packUsage{}

	for id, p := range packs {
		switch {
		case p.live == 0:
			// Unreferenced once its deleted contents are dropped.
		case p.dead*100 >= (p.live+p.dead)*compactDeadPercent:
			ids = append(ids, p.liveIDs...)
		case p.live < shortBytes && id != "":
			short[id[0]] = append(short[id[0]], p)
		}
	}

	for _, ps := range short {
		if len(ps) < 2 { //nolint:mnd // consolidating a single pack gains nothing
			continue
		}

		for _, p := range ps {
			ids = append(ids, p.liveIDs...)
		}
	}

	return ids
}

// dropDeleted advances the index deletion watermark past every deleted
// content, so that the index forgets them and their packs (or the dead
// part of them) become unreferenced. This is kopia's drop-deleted-contents
// step with no safety margin.
func (r *maintenanceRun) dropDeleted(ctx context.Context) error {
	if !r.hasDeleted {
		return nil
	}

	wm := max(r.w.Time().Unix(), r.maxDeleted)

	_, err := r.w.ContentManager().CompactIndexes(ctx, indexblob.CompactOptions{
		AllIndexes:                       true,
		DropDeletedBefore:                time.Unix(wm, 0),
		DisableEventualConsistencySafety: true,
	})
	if err != nil {
		return fmt.Errorf("compact indexes: %w", err)
	}

	return nil
}

// deletePacks removes pack blobs no index entry references (garbage packs,
// packs emptied by compaction, packs of aborted sessions) and stale session
// markers.
func (r *maintenanceRun) deletePacks(ctx context.Context) error {
	ps, err := maintenance.DeleteUnreferencedPacks(ctx, r.w, maintenance.DeleteUnreferencedPacksOptions{}, maintenance.SafetyNone)
	if err != nil {
		return err
	}

	r.st.DeletedBlobs = int64(ps.DeletedPackCount) //nolint:gosec // counts fit

	return nil
}

// epochHousekeeping runs kopia's index epoch maintenance (compaction of
// index blobs, cleanup of superseded ones), with kopia's own safety
// margins; it never touches contents.
func (r *maintenanceRun) epochHousekeeping(ctx context.Context) error {
	em, ok, err := r.w.ContentManager().EpochManager(ctx)
	if err != nil || !ok {
		return err
	}

	if _, err := em.MaybeCompactSingleEpoch(ctx); err != nil {
		return fmt.Errorf("compact epoch: %w", err)
	}

	if _, err := em.MaybeAdvanceWriteEpoch(ctx); err != nil {
		return fmt.Errorf("advance epoch: %w", err)
	}

	if _, err := em.MaybeGenerateRangeCheckpoint(ctx); err != nil {
		return fmt.Errorf("range checkpoint: %w", err)
	}

	if _, err := em.CleanupMarkers(ctx); err != nil {
		return fmt.Errorf("cleanup markers: %w", err)
	}

	if _, err := em.CleanupSupersededIndexes(ctx); err != nil {
		return fmt.Errorf("cleanup superseded indexes: %w", err)
	}

	return nil
}

// settle returns once the clock has reached the newest deletion timestamp.
// A content written again later then gets a timestamp no older than its
// dropped deletion entry (ties go to the live entry); an older one would
// lose to the deletion entry and stay invisible. Deletion timestamps are at
// most a second ahead of the clock, so this waits at most about a second;
// it ignores ctx so that a cancelled Maintain cannot let a writer in early.
func (r *maintenanceRun) settle(context.Context) error {
	if !r.hasDeleted {
		return nil
	}

	d := time.Unix(r.maxDeleted, 0).Sub(r.w.Time())
	if d <= 0 {
		return nil
	}

	if d > maxSettle {
		return fmt.Errorf("deletion timestamps are %v ahead of the clock", d)
	}

	time.Sleep(d)

	return nil
}

// storedBytes sums the sizes of all blobs in storage.
func storedBytes(ctx context.Context, r blob.Reader) (int64, error) {
	bms, err := blob.ListAllBlobs(ctx, r, "")
	if err != nil {
		return 0, fmt.Errorf("list blobs: %w", err)
	}

	var n int64
	for _, bm := range bms {
		n += bm.Length
	}

	return n, nil
}
