package vaultmaint

import (
	"context"
	"fmt"

	"github.com/kopia/kopia/repo/blob"
	"github.com/kopia/kopia/repo/content"
	"github.com/kopia/kopia/repo/maintenance"
	"github.com/kopia/kopia/repo/maintenancestats"
)

// Pack compaction policy.
const (
	// compactDeadPercent: a pack whose deleted share reaches this
	// percentage of its bytes has its live contents rewritten, so that the
	// pack goes once its deleted contents are dropped. kopia alone rewrites
	// only short packs, which leaves up to 40% of a pack dead for good.
	compactDeadPercent = 10
	// shortPackPercent: packs with less live data than this percentage of
	// the maximum pack size are short; two or more short packs of a kind
	// ('p' data, 'q' metadata) are consolidated (kopia's rule).
	shortPackPercent = 60
)

// compact is kopia's full content rewrite task, run by coffer in its place:
// under kopia's task name, when kopia's rule allows one and with kopia's
// margins, so that kopia's maintenance.Run then skips its own rewrite and
// waits its margin before deleting the packs this one orphaned. It differs
// in what it rewrites: the live contents of short packs and of packs
// compactDeadPercent or more deleted. kopia's rewrite also copies deleted
// contents, which gives them a new timestamp and so postpones their drop
// for as long as runs keep rewriting short packs.
func (r *maintenanceRun) compact(ctx context.Context) error {
	s, err := maintenance.GetSchedule(ctx, r.w)
	if err != nil {
		return fmt.Errorf("maintenance schedule: %w", err)
	}

	if !mayRewrite(s, r.safety) {
		return nil
	}

	ids, err := r.rewriteCandidates(ctx)
	if err != nil {
		return err
	}

	var rs *maintenancestats.RewriteContentsStats

	err = maintenance.ReportRun(ctx, r.w, maintenance.TaskRewriteContentsFull, s, func() (maintenancestats.Kind, error) {
		var err error

		rs, err = maintenance.RewriteContents(ctx, r.w, &maintenance.RewriteContentsOptions{ContentIDs: ids}, r.safety)

		return rs, err //nolint:wrapcheck // wrapped below
	})
	if err != nil {
		return fmt.Errorf("rewrite contents: %w", err)
	}

	r.addStats(rs)

	return nil
}

// mayRewrite is kopia's rule for a full rewrite: none while the packs
// orphaned by the previous rewrite wait for deletion.
func mayRewrite(s *maintenance.Schedule, safety maintenance.SafetyParameters) bool {
	lastRewrite := lastSuccess(s.Runs[maintenance.TaskRewriteContentsFull])
	lastDelete := max(lastSuccess(s.Runs[maintenance.TaskDeleteOrphanedBlobsFull]),
		lastSuccess(s.Runs[maintenance.TaskDeleteOrphanedBlobsQuick]))

	return lastRewrite == 0 || safety.MinRewriteToOrphanDeletionDelay == 0 || lastDelete >= lastRewrite
}

// lastSuccess returns the end (unix nanoseconds) of the latest successful run.
func lastSuccess(runs []maintenance.RunInfo) int64 {
	var t int64

	for _, ri := range runs {
		if ri.Success {
			t = max(t, ri.End.UnixNano())
		}
	}

	return t
}

// packUsage is the live and deleted content of one pack blob.
type packUsage struct {
	live, dead int64
	liveIDs    []content.ID
}

// rewriteCandidates returns the live contents of short packs and of packs
// compactDeadPercent or more deleted.
func (r *maintenanceRun) rewriteCandidates(ctx context.Context) ([]content.ID, error) {
	mp, err := r.w.ContentReader().ContentFormat().GetMutableParameters(ctx)
	if err != nil {
		return nil, fmt.Errorf("format parameters: %w", err)
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
		} else {
			p.live += int64(ci.PackedLength)
			p.liveIDs = append(p.liveIDs, ci.ContentID)
		}

		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("iterate contents: %w", err)
	}

	return selectRewrites(packs, int64(mp.MaxPackSize)*shortPackPercent/100), nil
}

// selectRewrites applies the compaction policy to the pack usage.
func selectRewrites(packs map[blob.ID]*packUsage, shortBytes int64) []content.ID {
	var ids []content.ID

	short := map[byte][]*packUsage{}

	for id, p := range packs {
		switch {
		case p.live == 0 || id == "":
			// Nothing to move (or not in a pack yet).
		case p.dead*100 >= (p.live+p.dead)*compactDeadPercent:
			ids = append(ids, p.liveIDs...)
		case p.live < shortBytes:
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
