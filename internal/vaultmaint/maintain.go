package vaultmaint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/kopia/kopia/repo"
	"github.com/kopia/kopia/repo/blob"
	"github.com/kopia/kopia/repo/content"
	"github.com/kopia/kopia/repo/maintenance"
	"github.com/kopia/kopia/repo/maintenancestats"

	"github.com/cofferbackup/coffer/internal/vault"
)

// ErrRunning is returned by Maintain when another handle in
// this process, or another process on this machine, holds kopia's local
// maintenance lock of the vault.
var ErrRunning = errors.New("maintenance already running")

// safetyParams returns kopia's safety parameters for s.
func safetyParams(s vault.Safety) maintenance.SafetyParameters {
	if s == vault.SafetySoleWriter {
		return maintenance.SafetyNone
	}

	return maintenance.SafetyFull
}

// Stats reports what Maintain did.
type Stats struct {
	LiveRecoveryPoints int   // distinct recovery point ids found
	LiveContents       int64 // contents reachable from live recovery points
	DeletedContents    int64 // unreachable contents marked deleted by this run
	DeletedBlobs       int64 // pack and stale session blobs removed from storage
	FreedBytes         int64 // net decrease of stored bytes (before - after)

	// RewrittenContents/RewrittenBytes: live contents copied out of packs
	// that were short or 10% or more deleted, so that those packs can go.
	RewrittenContents int64
	RewrittenBytes    int64
	// UndeletedContents: contents a live recovery point needs that were
	// found marked deleted and were restored (a sweep raced with a write
	// session that reused them).
	UndeletedContents int64

	// RecentContents: unreachable contents kept because they are younger
	// than the safety margin (a write session may still reference them).
	RecentContents int64
	// RetainedBlobs: unreferenced packs kept because they are younger than
	// the safety margin or belong to an active session.
	RetainedBlobs int64
	// DroppedDeletedBefore: contents deleted before this time were dropped
	// from the index by this run (zero: none dropped yet, the margin has
	// not passed).
	DroppedDeletedBefore time.Time
	// BytesBefore/BytesAfter: stored bytes before and after the run.
	BytesBefore, BytesAfter int64
	Safety                  vault.Safety
	Owner                   string // maintenance owner recorded in the vault
	// LockedUntil, in a vault under S3 Object Lock whose longest live
	// DeleteAt is beyond the rolling retention, is the retention every
	// blob was extended to (LockExtendedBlobs of them); zero otherwise.
	LockedUntil       time.Time
	LockExtendedBlobs int64
	Duration          time.Duration
}

// maxSettle bounds the waits for the wall clock to pass deletion
// timestamps (SafetySoleWriter only; see settle).
const maxSettle = 5 * time.Second

// Maintain reclaims space. It never runs kopia's snapshot GC, which knows
// nothing of recovery points; coffer's mark and sweep takes its place
// inside kopia's own maintenance.
//
// Under kopia's maintenance.RunExclusive (which records this handle's
// Owner as the vault's maintenance owner first), with the safety margins
// of Options.Safety:
//
//  1. mark: every content reachable from a live recovery point (its
//     record stream object and the data object of each record);
//  2. sweep: unreachable data contents old enough are marked deleted,
//     reachable ones found deleted are undeleted; recorded in kopia's
//     maintenance schedule as its snapshot-GC task, so that kopia's
//     two-cycle rule for dropping deleted contents applies;
//  3. compaction, kopia's content rewrite task run by coffer (kopia's task
//     name, rule and margins): the live contents of short packs and of
//     packs 10% or more deleted move to new packs;
//  4. kopia's maintenance.Run (full): drop deleted contents from the
//     index, delete unreferenced packs, epoch index compaction and
//     cleanup (its own rewrite is skipped once step 3 ran).
//
// Any error while marking stops the run before anything is deleted; a
// later error or a cancellation leaves the vault consistent, with some
// space not yet reclaimed.
//
// Only one process may run Maintain on a vault at a time: in a deployment
// of several processes, the elected leader. RunExclusive's lock is a flock
// on a file next to the vault's kopia config: it keeps two handles of one
// process and processes of one machine apart, not processes on other
// machines (a shared filesystem may not honour it, an S3 vault has no such
// file); there the election must. Within this handle, Maintain waits
// (bounded by ctx) for a moment when no write session, recovery-point
// deletion or listing is in progress, and holds new ones off while it
// runs. Readers returned by OpenObject are not held off; a read racing
// with the removal of a rewritten pack may fail and can be retried.
func Maintain(ctx context.Context, v *vault.Vault) (Stats, error) {
	st, err := maintain(ctx, v)
	if err != nil {
		return st, fmt.Errorf("vault %q: maintain: %w", v.Dir(), err)
	}

	return st, nil
}

// maintenanceRun is the state of one Maintain call.
type maintenanceRun struct {
	dir    string
	w      repo.DirectRepositoryWriter
	opts   vault.Options
	safety maintenance.SafetyParameters
	st     Stats

	live       map[content.ID]struct{}
	maxDeleted int64 // newest deletion timestamp (unix seconds) set by the sweep

	lifecycles  map[string]vault.RecoveryPointLifecycle // retentions changed after the backup
	maxDeleteAt time.Time                               // latest DeleteAt of a live recovery point
}

func maintain(ctx context.Context, v *vault.Vault) (Stats, error) {
	var st Stats

	err := v.RepositoryExclusive(ctx, func(rep repo.DirectRepository) error {
		_, w, err := rep.NewDirectWriter(ctx, repo.WriteSessionOptions{Purpose: "coffer-maintain"})
		if err != nil {
			return err
		}
		defer w.Close(ctx) //nolint:errcheck // nothing left to release on error

		opts := v.Options()
		run := &maintenanceRun{dir: v.Dir(), w: w, opts: opts, safety: safetyParams(opts.Safety)}
		run.st.Safety = opts.Safety
		run.st.Owner = w.ClientOptions().UsernameAtHost()

		start := w.Time()
		err = run.run(ctx)
		run.st.Duration = w.Time().Sub(start)
		st = run.st

		if err == nil {
			slog.Debug("vault maintained", "dir", v.Dir(), "stats", run.st)
		}

		return err
	})

	return st, err
}

func (r *maintenanceRun) run(ctx context.Context) error {
	// See what other handles and processes committed (the owner record
	// among it).
	if err := r.w.Refresh(ctx); err != nil {
		return fmt.Errorf("refresh: %w", err)
	}

	if err := r.claimOwnership(ctx); err != nil {
		return err
	}

	before, err := storedBytes(ctx, r.w.BlobReader())
	if err != nil {
		return err
	}

	r.st.BytesBefore = before
	ran := false

	err = maintenance.RunExclusive(ctx, r.w, maintenance.ModeFull, false,
		func(ctx context.Context, rp maintenance.RunParameters) error {
			ran = true
			return r.exclusive(ctx, rp)
		})
	if err != nil {
		return err //nolint:wrapcheck // steps say what failed
	}

	if !ran {
		return ErrRunning
	}

	after, err := storedBytes(ctx, r.w.BlobReader())
	if err != nil {
		return err
	}

	r.st.BytesAfter = after
	r.st.FreedBytes = before - after

	return nil
}

// claimOwnership records this handle's identity as the vault's maintenance
// owner, so that RunExclusive runs here. Taking over from another owner is
// the caller's right: coffer decides who maintains a vault (the elected
// leader), not the record, which says who did last.
func (r *maintenanceRun) claimOwnership(ctx context.Context) error {
	p, err := maintenance.GetParams(ctx, r.w)
	if err != nil {
		return fmt.Errorf("maintenance params: %w", err)
	}

	if p.Owner == r.st.Owner {
		return nil
	}

	if p.Owner != "" {
		slog.Info("vault: taking over maintenance", "dir", r.dir, "from", p.Owner, "to", r.st.Owner)
	}

	p.Owner = r.st.Owner
	if err := maintenance.SetParams(ctx, r.w, p); err != nil {
		return fmt.Errorf("set maintenance owner: %w", err)
	}

	if err := r.w.Flush(ctx); err != nil {
		return fmt.Errorf("set maintenance owner: flush: %w", err)
	}

	return nil
}

// exclusive runs under RunExclusive: coffer's mark and sweep, the
// rewrite of short and mostly dead packs (see compact), then kopia's
// maintenance.
func (r *maintenanceRun) exclusive(ctx context.Context, rp maintenance.RunParameters) error {
	err := maintenance.ReportRun(ctx, r.w, maintenance.TaskSnapshotGarbageCollection, nil,
		func() (maintenancestats.Kind, error) { return r.markAndSweep(ctx, rp.MaintenanceStartTime) })
	if err != nil {
		return fmt.Errorf("mark and sweep: %w", err)
	}

	if err := r.compact(ctx); err != nil {
		return fmt.Errorf("compact packs: %w", err)
	}

	if r.maxDeleted > 0 {
		r.settle(r.maxDeleted + 1)
	}

	prev, err := maintenance.GetSchedule(ctx, r.w)
	if err != nil {
		return fmt.Errorf("maintenance schedule: %w", err)
	}

	if err := maintenance.Run(ctx, rp, r.runSafety()); err != nil {
		return fmt.Errorf("kopia maintenance: %w", err)
	}

	if err := r.coverDeleteAt(ctx); err != nil {
		return fmt.Errorf("object lock: %w", err)
	}

	if err := r.collectStats(ctx, prev); err != nil {
		return err
	}

	if wm := r.st.DroppedDeletedBefore; !wm.IsZero() {
		r.settle(wm.Unix() + 1)
	}

	return nil
}

// runSafety returns the margins for kopia's maintenance.Run. With
// SafetySoleWriter kopia would rewrite short packs in every run (it has no
// delay to wait), after compact and before the drop, copying the contents
// just deleted and so giving them a timestamp the drop does not reach; a
// minimum rewrite age keeps it off them.
func (r *maintenanceRun) runSafety() maintenance.SafetyParameters {
	s := r.safety
	if r.opts.Safety == vault.SafetySoleWriter {
		s.RewriteMinAge = time.Hour
	}

	return s
}

// settle waits (SafetySoleWriter, wall clock only) until the clock has
// reached the unix second t. Before kopia's drop, t follows the newest
// deletion timestamp the sweep set: kopia drops what was deleted strictly
// before now and stamps a deletion up to a second ahead of the clock, so
// this makes one run reclaim everything. After the drop, t follows the
// drop time: a content deleted later in the same second would get a
// timestamp at or before it and vanish from the index at once, its bytes
// then counted neither live nor deleted, so never compacted out of their
// pack. An injected clock is the test's to advance.
func (r *maintenanceRun) settle(t int64) {
	if r.opts.Safety != vault.SafetySoleWriter || r.opts.Clock != nil || t == 0 {
		return
	}

	d := time.Unix(t, 0).Sub(r.w.Time())
	if d > 0 && d <= maxSettle {
		time.Sleep(d)
	}
}

// collectStats reads what kopia's tasks of this run reported in the
// maintenance schedule: runs are new when they are not at the head of
// their task's history before the run.
func (r *maintenanceRun) collectStats(ctx context.Context, prev *maintenance.Schedule) error {
	s, err := maintenance.GetSchedule(ctx, r.w)
	if err != nil {
		return fmt.Errorf("maintenance schedule: %w", err)
	}

	for _, task := range []maintenance.TaskType{
		maintenance.TaskRewriteContentsFull,
		maintenance.TaskDropDeletedContentsFull,
		maintenance.TaskDeleteOrphanedBlobsFull,
	} {
		runs := s.Runs[task]
		if len(runs) == 0 || !runs[0].Success || sameRun(runs[0], prev.Runs[task]) {
			continue
		}

		for _, x := range runs[0].Extra {
			sum, err := maintenancestats.BuildFromExtra(x)
			if err != nil {
				continue // stats only; a kind this version does not know
			}

			r.addStats(sum)
		}
	}

	return nil
}

func sameRun(ri maintenance.RunInfo, history []maintenance.RunInfo) bool {
	return len(history) > 0 && ri.Start.Equal(history[0].Start) && ri.End.Equal(history[0].End)
}

func (r *maintenanceRun) addStats(sum maintenancestats.Summarizer) {
	switch s := sum.(type) {
	case *maintenancestats.RewriteContentsStats:
		r.st.RewrittenContents += int64(s.RewrittenContentCount) //nolint:gosec // counts fit
		r.st.RewrittenBytes += int64(s.RewrittenContentSize)     //nolint:gosec // sizes fit
	case *maintenancestats.CompactIndexesStats:
		r.st.DroppedDeletedBefore = s.DroppedContentsDeletedBefore
	case *maintenancestats.DeleteUnreferencedPacksStats:
		r.st.DeletedBlobs += int64(s.DeletedPackCount)   //nolint:gosec // counts fit
		r.st.RetainedBlobs += int64(s.RetainedPackCount) //nolint:gosec // counts fit
	}
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
