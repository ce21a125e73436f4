package capture

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/cofferbackup/coffer/internal/backup"
	"github.com/cofferbackup/coffer/internal/capturelog"
	"github.com/cofferbackup/coffer/internal/catalog/capturestore"
	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/s3source"
	"github.com/cofferbackup/coffer/internal/vault"
)

// maxKeyVersions bounds the versions of one key an events batch lists to
// place the versions its events name (older ones are left to scans).
const maxKeyVersions = 1000

// events captures one batch of the inbox of the protection's bucket: the
// versions (and tag sets) its events name, read from the endpoint, as one
// segment; then it deletes the batch's rows. Covered time moves to the
// newest event's time.
func (c *Captures) events(ctx context.Context, p *capturestore.Protection, v *vault.Vault, src *s3source.Client) error {
	read := c.cfg.Clock.Now().Truncate(time.Millisecond) // as the API shows it
	evs, err := c.cfg.Captures.InboxEventsOf(ctx, p.Connection, p.Bucket, c.cfg.Batch)
	if err != nil || len(evs) == 0 {
		return err
	}
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
	if why := versioningOff(capt.Info(), p.Bucket); why != "" {
		st.Status, st.StatusMessage = StateStopped, why
		return c.commit(ctx, w, p, &st)
	}
	changes, failedAt, err := c.captureEvents(ctx, p, src, capt, dedupe(evs))
	if err != nil {
		return err
	}
	if len(changes) > 0 {
		seq, err := capturelog.NextSeq(ctx, v, p.RPID)
		if err != nil {
			return err
		}
		seg, err := capturelog.WriteSegment(ctx, w, p.RPID, seq, changes)
		if err != nil {
			return err
		}
		st.Versions += seg.Versions
		for i := range changes {
			st.Bytes += changes[i].Size
		}
	}
	// Covered time: the newest event's time (never past the read). An
	// endpoint that delivers in order (MinIO's queue) has then sent every
	// earlier change; one that can reorder or lose events is made good by
	// the next scan (docs/design/continuous-backup.md).
	var covered time.Time
	for _, e := range evs {
		if e.Time.After(covered) {
			covered = e.Time
		}
	}
	if covered.After(read) {
		covered = read
	}
	if !failedAt.IsZero() {
		if !covered.Before(failedAt) {
			covered = failedAt.Add(-time.Millisecond) // not past a change that failed: a scan soon has it
		}
		if soon := read.Add(min(failRetry, c.cfg.ReconcileInterval)); p.NextScanAt.After(soon) {
			p.NextScanAt = soon
		}
	}
	if st.Status == StateAvailable && covered.After(st.Covered) {
		st.Covered = covered
	}
	if err := c.commit(ctx, w, p, &st); err != nil {
		return err
	}
	ids := make([]string, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	_, err = c.cfg.Captures.DeleteInboxEvents(context.WithoutCancel(ctx), p.Bucket, ids)
	return err
}

// dedupe keeps one event per (key, version, kind of change), in order.
func dedupe(evs []capturestore.InboxEvent) []capturestore.InboxEvent {
	seen := map[string]bool{}
	out := evs[:0:0]
	for _, e := range evs {
		k := e.Key + "\x00" + e.VersionID + "\x00" + fmt.Sprint(isTagging(e.Name))
		if !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}

func isTagging(name string) bool { return strings.Contains(name, "Tagging") } // AWS ObjectTagging:Put, MinIO ObjectCreated:PutTagging

// captureEvents reads what each event names, Config.Parallelism keys at
// a time (a key's events in their order). Each key's versions are listed
// once, which gives the listing entry to capture and its ord (the tie
// rule); a version no longer listed (deleted for good) is skipped.
// failedAt is the earliest time of an event whose version could not be
// captured (zero if none).
func (c *Captures) captureEvents(ctx context.Context, p *capturestore.Protection, src *s3source.Client, capt *backup.Capturer, evs []capturestore.InboxEvent) ([]capturelog.Change, time.Time, error) {
	var keys []string
	byKey := map[string][]capturestore.InboxEvent{}
	for _, e := range evs {
		if _, ok := byKey[e.Key]; !ok {
			keys = append(keys, e.Key)
		}
		byKey[e.Key] = append(byKey[e.Key], e)
	}
	results := make([]keyCapture, len(keys))
	var wg sync.WaitGroup
	sem := make(chan struct{}, c.cfg.Parallelism)
	for i, k := range keys {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = c.captureKey(ctx, p, src, capt, byKey[k])
		}()
	}
	wg.Wait()
	var (
		out      []capturelog.Change
		failedAt time.Time
	)
	for _, r := range results {
		if r.err != nil {
			return nil, failedAt, r.err
		}
		out = append(out, r.changes...)
		if !r.failedAt.IsZero() && (failedAt.IsZero() || r.failedAt.Before(failedAt)) {
			failedAt = r.failedAt
		}
	}
	return out, failedAt, nil
}

// keyCapture is what the events of one key gave.
type keyCapture struct {
	changes  []capturelog.Change
	failedAt time.Time
	err      error
}

// captureKey captures the versions and tag sets the events of one key name.
func (c *Captures) captureKey(ctx context.Context, p *capturestore.Protection, src *s3source.Client, capt *backup.Capturer, evs []capturestore.InboxEvent) (r keyCapture) {
	vers, err := src.KeyVersions(ctx, p.Bucket, evs[0].Key, maxKeyVersions)
	if err != nil {
		return keyCapture{err: err}
	}
	for _, e := range evs {
		ver, ord, found := findVersion(vers, e.VersionID)
		if !found {
			continue
		}
		if isTagging(e.Name) {
			ch, ok, err := c.tagChange(ctx, p, src, ver, e.Time)
			if err != nil {
				return keyCapture{err: err}
			}
			if ok {
				r.changes = append(r.changes, ch)
			}
			continue
		}
		rec, err := capt.Capture(ctx, ver, nil)
		if err != nil {
			if backup.IsFatal(err) {
				return keyCapture{err: err}
			}
			if r.failedAt.IsZero() || e.Time.Before(r.failedAt) {
				r.failedAt = e.Time // the next scan captures it
			}
			continue
		}
		rec.Ord = ord
		r.changes = append(r.changes, capturelog.Change{Record: *rec, Seen: e.Time})
	}
	return r
}

// findVersion finds version id in a key's listing (newest first); "" is
// the newest. ord counts from the oldest.
func findVersion(vers []s3source.Version, id string) (s3source.Version, int64, bool) {
	for i, v := range vers {
		if v.VersionID == id || id == "" {
			return v, int64(len(vers) - 1 - i), true
		}
	}
	return s3source.Version{}, 0, false
}

// tagChange reads a version's tags now, as a tag change seen at the
// event's time.
func (c *Captures) tagChange(ctx context.Context, p *capturestore.Protection, src *s3source.Client, ver s3source.Version, at time.Time) (capturelog.Change, bool, error) {
	if ver.DeleteMarker || p.Options["BackupObjectTags"] == "disabled" {
		return capturelog.Change{}, false, nil
	}
	tags, err := src.Tags(ctx, p.Bucket, ver.Key, ver.VersionID)
	switch {
	case errors.Is(err, s3source.ErrNotFound), errors.Is(err, s3source.ErrNotSupported):
		return capturelog.Change{}, false, nil
	case err != nil:
		return capturelog.Change{}, false, fmt.Errorf("get tags: %w", err)
	}
	ch := capturelog.Change{Op: capturelog.OpTags, Seen: at}
	ch.Key, ch.VersionID, ch.Tags, ch.TagsState = ver.Key, ver.VersionID, maps.Clone(tags), recpoint.StateCaptured
	return ch, true, nil
}
