package capturelog

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/vault"
)

// Checkpoint is a checkpoint's manifest payload: the state of RP as of At
// in a coffer-records stream, absorbing every segment with seq <= MaxSeq.
type Checkpoint struct {
	RP       string    `json:"rp"`
	At       time.Time `json:"at"`
	MaxSeq   int64     `json:"max_seq"`
	Object   string    `json:"object"` // vault object id of the coffer-records stream
	Records  int64     `json:"records"`
	Segments int64     `json:"segments"` // segments merged into it
}

// Checkpoints lists the committed checkpoints of rp by At, then MaxSeq.
func Checkpoints(ctx context.Context, v *vault.Vault, rp string) ([]Checkpoint, error) {
	out, err := loadManifests[Checkpoint](ctx, v, TypeCheckpoint, rp)
	if err != nil {
		return nil, err
	}

	slices.SortStableFunc(out, func(a, b Checkpoint) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}

		return cmp.Compare(a.MaxSeq, b.MaxSeq)
	})

	return out, nil
}

// Compact writes and commits a checkpoint of rp at c: the state at c from
// the previous checkpoint and the segments up to c. It absorbs (MaxSeq)
// the longest run of segments above the previous checkpoint's whose
// every record is in effect by c; a later segment also merged into it is
// read again by restores after c, which is harmless (duplicates are
// ignored, and tag changes up to c are taken from the checkpoint).
// Deleting absorbed segments is a separate step.
func Compact(ctx context.Context, v *vault.Vault, rp string, c time.Time) (Checkpoint, error) {
	cp, err := compact(ctx, v, rp, c)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("capture log %q: compact at %s: %w", rp, c.Format(time.RFC3339Nano), err)
	}

	return cp, nil
}

func compact(ctx context.Context, v *vault.Vault, rp string, c time.Time) (Checkpoint, error) {
	cps, err := Checkpoints(ctx, v, rp)
	if err != nil {
		return Checkpoint{}, err
	}

	segs, err := Segments(ctx, v, rp)
	if err != nil {
		return Checkpoint{}, err
	}

	p := planFrom(rp, c, cps, segs)
	cp := Checkpoint{RP: rp, At: c, Segments: int64(len(p.Segments))}

	if p.Checkpoint != nil {
		cp.MaxSeq = p.Checkpoint.MaxSeq
	}

	for _, s := range segs {
		if s.Seq <= cp.MaxSeq {
			continue
		}

		if s.MaxAt.After(c) {
			break
		}

		cp.MaxSeq = s.Seq
	}

	w, err := v.NewWriter(ctx)
	if err != nil {
		return Checkpoint{}, err
	}
	defer w.Abort(ctx) //nolint:errcheck // after Commit it does nothing

	if cp.Object, cp.Records, err = writeStateObject(ctx, v, w, p); err != nil {
		return Checkpoint{}, err
	}

	labels := map[string]string{labelRP: rp, labelAt: c.UTC().Format(time.RFC3339Nano)}
	if err := putManifest(ctx, w, TypeCheckpoint, labels, cp); err != nil {
		return Checkpoint{}, err
	}

	if err := w.Commit(ctx); err != nil {
		return Checkpoint{}, err
	}

	return cp, nil
}

// writeStateObject streams the state of p into one object of session w.
func writeStateObject(ctx context.Context, v *vault.Vault, w *vault.Writer, p Plan) (string, int64, error) {
	pr, pw := io.Pipe()

	var n int64

	go func() {
		var err error
		n, err = WriteStateAt(ctx, v, p, pw)
		pw.CloseWithError(err) //nolint:errcheck // always nil
	}()

	oid, _, err := writeStream(ctx, w, pr)
	pr.CloseWithError(err) //nolint:errcheck // unblocks the producer on error; always nil

	if err != nil {
		return "", 0, err
	}

	return string(oid), n, nil
}

// openCheckpoint adds the checkpoint's record stream to the merge.
func (m *merger) openCheckpoint(ctx context.Context, v *vault.Vault, cp *Checkpoint) error {
	r, err := v.OpenObject(ctx, vault.ObjectID(cp.Object))
	if err != nil {
		return fmt.Errorf("checkpoint at %s: %w", cp.At.Format(time.RFC3339Nano), err)
	}

	rd, err := recpoint.NewReader(r)
	if err != nil {
		r.Close() //nolint:errcheck,gosec // read-only
		return fmt.Errorf("checkpoint at %s: %w", cp.At.Format(time.RFC3339Nano), err)
	}

	next := func(c *Change) error {
		*c = Change{}
		return rd.Next(&c.Record)
	}

	return m.add(&source{next: next, close: r.Close, cur: entry{src: -1}})
}

// openSegment adds a segment's stream to the merge, dropping as it reads
// the changes keep refuses.
func (m *merger) openSegment(ctx context.Context, v *vault.Vault, s Segment, keep func(*Change) bool) error {
	r, err := v.OpenObject(ctx, vault.ObjectID(s.Object))
	if err != nil {
		return fmt.Errorf("segment %d: %w", s.Seq, err)
	}

	cr, err := newChangeReader(r)
	if err != nil {
		r.Close() //nolint:errcheck,gosec // read-only
		return fmt.Errorf("segment %d: %w", s.Seq, err)
	}

	return m.add(&source{next: cr.next, close: r.Close, cur: entry{src: s.Seq}, filter: keep})
}
