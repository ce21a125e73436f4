package capturelog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/vault"
)

// Sizes of the segments retention writes: changes are merged into
// segments of up to mergeSize records; a segment of largeSegment records
// or more wholly after the window's start is kept as it is (renumbered).
const (
	mergeSize    = 20_000
	largeSegment = 10_000
)

// ErrNothingToRetain: Retain at a time not after the newest checkpoint.
var ErrNothingToRetain = errors.New("nothing to retain: a checkpoint at or after that time exists")

// Retained says what Retain wrote.
type Retained struct {
	Checkpoint Checkpoint
	// Absorbed is how many segments the checkpoint and the merged
	// segments replace (deleted by Sweep), Merged how many merged
	// segments were written, Kept how many large segments were kept
	// (under a new seq).
	Absorbed, Merged, Kept int
}

// Retain moves the start of rp's capture log to c (the retention
// window's start), in one write session that it commits: a checkpoint at
// c holding, per key, only the entry current at c (a version superseded
// at or before c is needed by no restore at c or later, so it is
// dropped); the changes in effect after c of every small segment, and of
// every segment with anything at or before c, merged into new segments;
// large segments wholly after c renumbered above the checkpoint; and st
// with Compacted = c and its counts recomputed. The checkpoint absorbs
// every seq written so far, so readers skip the old segments at once:
// they are still present (a restore before c still reads them exactly)
// until Sweep deletes them.
func Retain(ctx context.Context, v *vault.Vault, st State, c time.Time) (State, Retained, error) {
	st, r, err := retain(ctx, v, st, c)
	if err != nil {
		return st, r, fmt.Errorf("capture log %q: retain from %s: %w", st.RP, c.Format(time.RFC3339Nano), err)
	}

	return st, r, nil
}

func retain(ctx context.Context, v *vault.Vault, st State, c time.Time) (State, Retained, error) {
	cps, err := Checkpoints(ctx, v, st.RP)
	if err != nil {
		return st, Retained{}, err
	}

	if len(cps) > 0 && !c.After(cps[len(cps)-1].At) {
		return st, Retained{}, ErrNothingToRetain
	}

	segs, err := Segments(ctx, v, st.RP)
	if err != nil {
		return st, Retained{}, err
	}

	top, err := NextSeq(ctx, v, st.RP)
	if err != nil {
		return st, Retained{}, err
	}

	p := planFrom(st.RP, c, cps, segs)
	r := Retained{Checkpoint: Checkpoint{RP: st.RP, At: c, MaxSeq: top - 1}}

	var floor int64
	if p.Checkpoint != nil {
		floor = p.Checkpoint.MaxSeq
	}

	var absorb, keep []Segment

	for _, s := range segs {
		switch {
		case s.Seq <= floor:
		case s.Records >= largeSegment && s.MinAt.After(c):
			keep = append(keep, s)
		default:
			absorb = append(absorb, s)
		}
	}

	r.Absorbed, r.Kept = len(absorb), len(keep)
	r.Checkpoint.Segments = int64(len(p.Segments))

	w, err := v.NewWriter(ctx)
	if err != nil {
		return st, r, err
	}
	defer w.Abort(ctx) //nolint:errcheck // after Commit it does nothing

	counts, err := writeRetained(ctx, v, w, p, &r.Checkpoint)
	if err != nil {
		return st, r, err
	}

	seq := top
	if r.Merged, err = mergeSegments(ctx, v, w, st.RP, absorb, c, &seq, &counts); err != nil {
		return st, r, err
	}

	for _, s := range keep {
		if err := putSegment(ctx, w, s, seq); err != nil {
			return st, r, err
		}

		seq++
		counts.versions += s.Versions
		counts.bytes += s.Bytes
	}

	labels := map[string]string{labelRP: st.RP, labelAt: c.UTC().Format(time.RFC3339Nano)}
	if err := putManifest(ctx, w, TypeCheckpoint, labels, r.Checkpoint); err != nil {
		return st, r, err
	}

	st.Compacted, st.Versions, st.Bytes = c, counts.versions, counts.bytes
	if err := PutState(ctx, w, st); err != nil {
		return st, r, err
	}

	return st, r, w.Commit(ctx)
}

// logCounts counts what the capture log holds after retention.
type logCounts struct{ versions, bytes int64 }

func (n *logCounts) add(r *recpoint.Record) {
	n.versions++
	if !r.DeleteMarker {
		n.bytes += r.Size
	}
}

// writeRetained writes the checkpoint's stream: the state at p.T with
// only each key's current entry.
func writeRetained(ctx context.Context, v *vault.Vault, w *vault.Writer, p Plan, cp *Checkpoint) (logCounts, error) {
	var n logCounts

	pr, pw := io.Pipe()

	go func() {
		err := writeCurrent(ctx, v, p, pw, &n)
		pw.CloseWithError(err) //nolint:errcheck // always nil
	}()

	oid, _, err := writeStream(ctx, w, pr)
	pr.CloseWithError(err) //nolint:errcheck // unblocks the producer on error; always nil

	if err != nil {
		return n, err
	}

	cp.Object, cp.Records = string(oid), n.versions

	return n, nil
}

func writeCurrent(ctx context.Context, v *vault.Vault, p Plan, out io.Writer, n *logCounts) error {
	rw, err := recpoint.NewWriter(out)
	if err != nil {
		return err
	}

	err = StateAt(ctx, v, p, func(r *recpoint.Record) error {
		if !r.IsLatest {
			return nil // superseded by c: no restore in the window needs it
		}

		n.add(r)

		return rw.Write(r)
	})
	if err != nil {
		return err
	}

	return rw.Flush()
}

// mergeSegments writes the changes of segs in effect after c (one copy
// of each) as segments of up to mergeSize records, from seq *seq on.
func mergeSegments(ctx context.Context, v *vault.Vault, w *vault.Writer, rp string, segs []Segment, c time.Time, seq *int64, n *logCounts) (int, error) {
	m := &merger{}
	defer m.close()

	for _, s := range segs {
		if err := m.openSegment(ctx, v, s, func(ch *Change) bool { return ch.at().After(c) }); err != nil {
			return 0, err
		}
	}

	var (
		batch   []Change
		written int
	)

	flush := func() error {
		if len(batch) == 0 {
			return nil
		}

		seg, err := writeSegment(ctx, w, rp, *seq, batch)
		if err != nil {
			return err
		}

		*seq++
		written++
		n.versions += seg.Versions
		n.bytes += seg.Bytes
		batch = batch[:0]

		return nil
	}

	for {
		group, err := m.nextKey()
		if errors.Is(err, io.EOF) {
			return written, flush()
		}

		if err != nil {
			return written, err
		}

		batch = appendUnique(batch, group)
		if len(batch) >= mergeSize {
			if err := flush(); err != nil {
				return written, err
			}
		}
	}
}

// appendUnique appends one key's changes without exact duplicates (the
// same version, or the same tag change, captured twice).
func appendUnique(batch []Change, group []entry) []Change {
	start := len(batch)

	for i := range group {
		c := group[i].c
		dup := slices.ContainsFunc(batch[start:], func(b Change) bool {
			return b.Op == c.Op && b.VersionID == c.VersionID && (c.Op != OpTags || b.Seen.Equal(c.Seen))
		})

		if !dup {
			batch = append(batch, c)
		}
	}

	return batch
}

// putSegment registers segment s again under seq (the same stream).
func putSegment(ctx context.Context, w *vault.Writer, s Segment, seq int64) error {
	s.Seq = seq

	labels := map[string]string{labelRP: s.RP, labelSeq: strconv.FormatInt(seq, 10)}

	return putManifest(ctx, w, TypeSegment, labels, s)
}

// Sweep deletes, in one write session it commits, what the newest
// checkpoint of rp absorbed: every segment with seq at or below its
// MaxSeq and every older checkpoint. Run after Retain (a crash between
// the two leaves them present and skipped; the next Sweep deletes them),
// once no restore before the checkpoint can start. Maintenance then
// reclaims what only they referenced. It returns how many manifests it
// deleted.
func Sweep(ctx context.Context, v *vault.Vault, rp string) (int, error) {
	n, err := sweep(ctx, v, rp)
	if err != nil {
		return n, fmt.Errorf("capture log %q: sweep: %w", rp, err)
	}

	return n, nil
}

func sweep(ctx context.Context, v *vault.Vault, rp string) (int, error) {
	cps, err := Checkpoints(ctx, v, rp)
	if err != nil || len(cps) == 0 {
		return 0, err
	}

	newest := cps[len(cps)-1]

	segs, err := Segments(ctx, v, rp)
	if err != nil {
		return 0, err
	}

	w, err := v.NewWriter(ctx)
	if err != nil {
		return 0, err
	}
	defer w.Abort(ctx) //nolint:errcheck // after Commit it does nothing

	deleted := 0

	for _, s := range segs {
		if s.Seq > newest.MaxSeq {
			continue
		}

		n, err := DeleteManifests(ctx, w, TypeSegment, map[string]string{labelRP: rp, labelSeq: strconv.FormatInt(s.Seq, 10)})
		if err != nil {
			return 0, err
		}

		deleted += n
	}

	for _, cp := range cps[:len(cps)-1] {
		if cp.At.Equal(newest.At) {
			continue // the label cannot tell them apart: keep both
		}

		n, err := DeleteManifests(ctx, w, TypeCheckpoint, map[string]string{labelRP: rp, labelAt: cp.At.UTC().Format(time.RFC3339Nano)})
		if err != nil {
			return 0, err
		}

		deleted += n
	}

	if deleted == 0 {
		return 0, nil
	}

	return deleted, w.Commit(ctx)
}
