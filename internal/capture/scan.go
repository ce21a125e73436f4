package capture

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/cofferbackup/coffer/internal/backup"
	"github.com/cofferbackup/coffer/internal/capturelog"
	"github.com/cofferbackup/coffer/internal/catalog/capturestore"
	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/s3source"
	"github.com/cofferbackup/coffer/internal/vault"
)

// segmentSize is how many changes a scan holds before it writes them as
// a segment (of the same write session).
const segmentSize = 2000

// scanRun is one reconciliation scan.
type scanRun struct {
	c     *Captures
	p     *capturestore.Protection
	start time.Time
	src   *s3source.Client
	w     *vault.Writer
	cap   *backup.Capturer
	st    *capturelog.State
	state *stateIter
	seq   int64

	pending []s3source.Version // to capture, with their ord
	ords    []int64
	changes []capturelog.Change
	failed  int64
	group   []s3source.Version // the versions of the key being listed
}

// scan lists every version and captures what the capture log lacks as of
// the scan's start (versions, delete markers, changed tag sets), then
// moves covered time to the start if nothing failed.
func (c *Captures) scan(ctx context.Context, p *capturestore.Protection, v *vault.Vault, src *s3source.Client) error {
	// Milliseconds, as the API shows times: a tag change dated at the
	// scan's start is then in the state at the LatestRestorableTime shown.
	start := c.cfg.Clock.Now().Truncate(time.Millisecond)
	st, err := c.loadState(ctx, p, v, src.Endpoint())
	if err != nil {
		return err
	}
	w, err := v.NewWriter(ctx)
	if err != nil {
		return err
	}
	defer w.Abort(context.WithoutCancel(ctx)) //nolint:errcheck // after Commit it does nothing
	capt, err := backup.NewCapturer(ctx, src, w, c.captureOptions(p))
	if err != nil {
		return err
	}
	p.NextScanAt = start.Add(c.cfg.ReconcileInterval)
	if why := versioningOff(capt.Info(), p.Bucket); why != "" {
		st.Status, st.StatusMessage = StateStopped, why
		return c.commit(ctx, w, p, &st)
	}
	seq, err := capturelog.NextSeq(ctx, v, p.RPID)
	if err != nil {
		return err
	}
	plan, err := capturelog.PlanAt(ctx, v, p.RPID, start)
	if err != nil {
		return err
	}
	r := &scanRun{c: c, p: p, src: src, w: w, cap: capt, st: &st, seq: seq, start: start, state: newStateIter(ctx, v, plan)}
	defer r.state.close()
	list := src.ListVersions
	if capt.MetadataListing() {
		list = src.ListVersionsWithMetadata
	}
	err = list(ctx, p.Bucket, func(ver s3source.Version) error {
		if len(r.group) > 0 && r.group[0].Key != ver.Key {
			if err := r.key(ctx); err != nil {
				return err
			}
		}
		r.group = append(r.group, ver)
		return nil
	})
	if err == nil && len(r.group) > 0 {
		err = r.key(ctx)
	}
	if err == nil {
		err = r.flush(ctx, true)
	}
	if err != nil {
		return fmt.Errorf("scan of bucket %q: %w", p.Bucket, err)
	}
	c.scanned(p, &st, start, r.failed, capt.Notes())
	return c.commit(ctx, w, p, &st)
}

// scanned records a finished scan in the state: covered time reaches its
// start unless versions failed (they are tried again soon, by the next
// scan). A scan that heals a stopped protection records the gap.
func (c *Captures) scanned(p *capturestore.Protection, st *capturelog.State, start time.Time, failed int64, notes string) {
	if failed > 0 {
		st.StatusMessage = fmt.Sprintf("%d object versions could not be captured; the next scan tries again", failed)
		p.NextScanAt = start.Add(min(failRetry, c.cfg.ReconcileInterval))
		p.Failures++
		return
	}
	if (st.Status == StateStopped || p.State == StateStopped) && !st.Covered.IsZero() && start.After(st.Covered) {
		reason := st.StatusMessage
		if p.State == StateStopped {
			reason = p.StatusMessage
		}
		st.Gaps = append(st.Gaps, capturelog.Gap{From: st.Covered, To: start, Reason: reason})
	}
	if st.Start.IsZero() {
		st.Start = start
	}
	st.LastScanStart = start
	if start.After(st.Covered) {
		st.Covered = start
	}
	st.Status, st.StatusMessage = StateAvailable, notes
	p.Failures, p.LastError = 0, ""
}

// versioningOff says why an unversioned bucket cannot be protected.
func versioningOff(info s3source.BucketInfo, bucket string) string {
	switch info.Versioning {
	case "Enabled":
		return ""
	case "Suspended":
		return "versioning is suspended on bucket " + bucket + ": continuous backup needs it enabled"
	}
	return "versioning is off on bucket " + bucket + ": continuous backup needs it enabled"
}

// key merge-joins the listed versions of one key (newest first) with the
// state's: new versions are captured, known ones have their tags compared.
func (r *scanRun) key(ctx context.Context) error {
	group := r.group
	r.group = r.group[len(r.group):]
	known, err := r.state.take(group[0].Key)
	if err != nil {
		return err
	}
	tags := r.p.Options["BackupObjectTags"] != "disabled"
	for i, ver := range group {
		ord := int64(len(group) - 1 - i)
		rec, ok := known[ver.VersionID]
		if !ok && i > 0 && !r.st.Compacted.IsZero() && !group[i-1].LastModified.After(r.st.Compacted) {
			continue // superseded before the log's start: retention dropped it
		}
		if !ok {
			r.pending, r.ords = append(r.pending, ver), append(r.ords, ord)
			continue
		}
		if !tags || ver.DeleteMarker {
			continue
		}
		if err := r.retag(ctx, ver, rec); err != nil {
			return err
		}
	}
	r.group = nil
	return r.flush(ctx, false)
}

// retag records a tag change of a known version whose tags differ now.
func (r *scanRun) retag(ctx context.Context, ver s3source.Version, rec *recpoint.Record) error {
	now := ver.ListedTags
	if !ver.Listed {
		t, err := r.src.Tags(ctx, r.p.Bucket, ver.Key, ver.VersionID)
		switch {
		case errors.Is(err, s3source.ErrNotFound), errors.Is(err, s3source.ErrNotSupported):
			return nil
		case err != nil:
			return fmt.Errorf("get tags: %w", err)
		}
		now = t
	}
	if len(now) == 0 && len(rec.Tags) == 0 || maps.Equal(now, rec.Tags) {
		return nil
	}
	ch := capturelog.Change{Op: capturelog.OpTags, Seen: r.start}
	ch.Key, ch.VersionID, ch.Tags, ch.TagsState = ver.Key, ver.VersionID, maps.Clone(now), recpoint.StateCaptured
	r.changes = append(r.changes, ch)
	return nil
}

// flush captures the pending versions (in parallel) and, when enough
// changes are held or at the end, writes them as a segment.
func (r *scanRun) flush(ctx context.Context, last bool) error {
	if len(r.pending) >= r.c.cfg.Parallelism*4 || last {
		if err := r.capturePending(ctx); err != nil {
			return err
		}
	}
	if len(r.changes) == 0 || (!last && len(r.changes) < segmentSize) {
		return nil
	}
	seg, err := capturelog.WriteSegment(ctx, r.w, r.p.RPID, r.seq, r.changes)
	if err != nil {
		return err
	}
	r.seq++
	r.st.Versions += seg.Versions
	r.changes = r.changes[:0]
	return nil
}

func (r *scanRun) capturePending(ctx context.Context) error {
	recs := make([]*recpoint.Record, len(r.pending))
	errs := make([]error, len(r.pending))
	var wg sync.WaitGroup
	sem := make(chan struct{}, r.c.cfg.Parallelism)
	for i := range r.pending {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			recs[i], errs[i] = r.cap.Capture(ctx, r.pending[i], nil)
		}()
	}
	wg.Wait()
	seen := r.start
	for i, rec := range recs {
		if errs[i] != nil {
			if backup.IsFatal(errs[i]) {
				return errs[i]
			}
			r.failed++
			continue
		}
		rec.Ord = r.ords[i]
		r.st.Bytes += rec.Size
		r.changes = append(r.changes, capturelog.Change{Record: *rec, Seen: seen})
	}
	r.pending, r.ords = r.pending[:0], r.ords[:0]
	return nil
}
