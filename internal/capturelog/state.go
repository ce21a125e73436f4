package capturelog

import (
	"cmp"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/vault"
)

// Plan is what a restore at T reads: the newest checkpoint with At <= T
// (nil if none) and the segments above its MaxSeq with MinAt <= T, by seq.
type Plan struct {
	RP         string
	T          time.Time
	Checkpoint *Checkpoint
	Segments   []Segment
}

// PlanAt chooses, from the manifests alone, what the state of rp at t needs.
func PlanAt(ctx context.Context, v *vault.Vault, rp string, t time.Time) (Plan, error) {
	cps, err := Checkpoints(ctx, v, rp)
	if err != nil {
		return Plan{}, err
	}

	segs, err := Segments(ctx, v, rp)
	if err != nil {
		return Plan{}, err
	}

	return planFrom(rp, t, cps, segs), nil
}

func planFrom(rp string, t time.Time, cps []Checkpoint, segs []Segment) Plan {
	p := Plan{RP: rp, T: t}

	for i := range cps { // by At, then MaxSeq: the last fitting one wins
		if !cps[i].At.After(t) {
			p.Checkpoint = &cps[i]
		}
	}

	var floor int64
	if p.Checkpoint != nil {
		floor = p.Checkpoint.MaxSeq
	}

	for _, s := range segs {
		if s.Seq > floor && !s.MinAt.After(t) {
			p.Segments = append(p.Segments, s)
		}
	}

	return p
}

// StateAt streams the state of the plan's recovery point at p.T to emit,
// key by key in key order: per key the versions and delete markers with
// LastModified <= T, newest first in the endpoint's order (same mtime:
// the higher ord is newer), the first one IsLatest, tags as of T. A key
// whose versions are all newer than T is absent. Only one key's changes
// are held at a time; emit must not keep the record.
func StateAt(ctx context.Context, v *vault.Vault, p Plan, emit func(*recpoint.Record) error) error {
	if err := stateAt(ctx, v, p, emit); err != nil {
		return fmt.Errorf("capture log %q: state at %s: %w", p.RP, p.T.Format(time.RFC3339Nano), err)
	}

	return nil
}

// WriteStateAt writes the state at p.T as a coffer-records stream to w
// (what internal/restore reads) and returns the number of records.
func WriteStateAt(ctx context.Context, v *vault.Vault, p Plan, w io.Writer) (int64, error) {
	rw, err := recpoint.NewWriter(w)
	if err != nil {
		return 0, err
	}

	if err := StateAt(ctx, v, p, rw.Write); err != nil {
		return rw.Count(), err
	}

	if err := rw.Flush(); err != nil {
		return rw.Count(), fmt.Errorf("capture log %q: flush state: %w", p.RP, err)
	}

	return rw.Count(), nil
}

func stateAt(ctx context.Context, v *vault.Vault, p Plan, emit func(*recpoint.Record) error) error {
	m := &merger{}
	defer m.close()

	if p.Checkpoint != nil {
		if err := m.openCheckpoint(ctx, v, p.Checkpoint); err != nil {
			return err
		}
	}

	for _, s := range p.Segments {
		inEffect := func(c *Change) bool { return !c.at().After(p.T) }
		if err := m.openSegment(ctx, v, s, inEffect); err != nil {
			return err
		}
	}

	r := resolver{t: p.T}
	if p.Checkpoint != nil {
		r.ckpt, r.hasCkpt = p.Checkpoint.At, true
	}

	for {
		group, err := m.nextKey()
		if errors.Is(err, io.EOF) {
			return nil
		}

		if err != nil {
			return err
		}

		for _, rec := range r.resolve(group) {
			if err := emit(rec); err != nil {
				return err
			}
		}

		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// entry is one change read from a source; src orders sources (-1 the
// checkpoint, else the segment's seq), pos the change within it.
type entry struct {
	c   Change
	src int64
	pos int64
}

// source is one sorted stream of the merge.
type source struct {
	next   func(*Change) error
	close  func() error
	cur    entry
	filter func(*Change) bool // false drops a change as it is read
}

func (s *source) advance() error {
	for {
		s.cur.pos++
		if err := s.next(&s.cur.c); err != nil {
			return err
		}

		if s.filter == nil || s.filter(&s.cur.c) {
			return nil
		}
	}
}

// merger is a k-way merge of sources by key.
type merger struct {
	h     sourceHeap
	all   []*source
	group []entry
}

func (m *merger) add(s *source) error {
	m.all = append(m.all, s)

	err := s.advance()
	if errors.Is(err, io.EOF) {
		return nil
	}

	if err != nil {
		return err
	}

	heap.Push(&m.h, s)

	return nil
}

// nextKey returns every change of the smallest key left (reused buffer).
func (m *merger) nextKey() ([]entry, error) {
	if m.h.Len() == 0 {
		return nil, io.EOF
	}

	m.group = m.group[:0]
	key := m.h[0].cur.c.Key

	for m.h.Len() > 0 && m.h[0].cur.c.Key == key {
		s := m.h[0]
		m.group = append(m.group, s.cur)

		err := s.advance()
		switch {
		case errors.Is(err, io.EOF):
			heap.Pop(&m.h)
		case err != nil:
			return nil, err
		default:
			heap.Fix(&m.h, 0)
		}
	}

	return m.group, nil
}

func (m *merger) close() {
	for _, s := range m.all {
		_ = s.close() // read-only objects: nothing to lose
	}
}

type sourceHeap []*source

func (h sourceHeap) Len() int { return len(h) }
func (h sourceHeap) Less(i, j int) bool {
	if h[i].cur.c.Key != h[j].cur.c.Key {
		return h[i].cur.c.Key < h[j].cur.c.Key
	}

	return h[i].cur.src < h[j].cur.src
}
func (h sourceHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *sourceHeap) Push(x any)   { *h = append(*h, x.(*source)) } //nolint:forcetypeassert // heap of sources
func (h *sourceHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	*h = old[:len(old)-1]

	return s
}

// resolver turns one key's changes into its state at t.
type resolver struct {
	t       time.Time
	ckpt    time.Time // the checkpoint's C, when hasCkpt
	hasCkpt bool

	versions []*entry
	tags     []*entry
	out      []*recpoint.Record
}

func (r *resolver) resolve(group []entry) []*recpoint.Record {
	r.versions, r.tags, r.out = r.versions[:0], r.tags[:0], r.out[:0]

	for i := range group {
		e := &group[i]
		switch {
		case e.c.Op == OpTags:
			// The checkpoint holds the tags as of C: only later changes apply.
			inCkpt := r.hasCkpt && !e.c.Seen.After(r.ckpt)
			if !e.c.Seen.After(r.t) && !inCkpt {
				r.tags = append(r.tags, e)
			}
		case !e.c.LastModified.After(r.t) && !r.known(e):
			r.versions = append(r.versions, e)
		}
	}

	if len(r.versions) == 0 {
		return nil
	}

	slices.SortFunc(r.tags, func(a, b *entry) int {
		if c := a.c.Seen.Compare(b.c.Seen); c != 0 {
			return c
		}

		if c := cmp.Compare(a.src, b.src); c != 0 {
			return c
		}

		return cmp.Compare(a.pos, b.pos)
	})

	for _, tc := range r.tags { // oldest first: the newest wins
		for _, ve := range r.versions {
			if ve.c.VersionID == tc.c.VersionID && !ve.c.DeleteMarker {
				ve.c.Tags, ve.c.TagsState = tc.c.Tags, recpoint.StateCaptured
			}
		}
	}

	// Newest first in the endpoint's order: mtime, then ord (tie rule).
	slices.SortFunc(r.versions, func(a, b *entry) int {
		if c := b.c.LastModified.Compare(a.c.LastModified); c != 0 {
			return c
		}

		if c := cmp.Compare(b.c.Ord, a.c.Ord); c != 0 {
			return c
		}

		return cmp.Compare(b.c.VersionID, a.c.VersionID)
	})

	for i, ve := range r.versions {
		ve.c.IsLatest = i == 0
		r.out = append(r.out, &ve.c.Record)
	}

	return r.out
}

// known reports whether e's version is already taken: a duplicate (the
// same version id from another segment, or from the checkpoint, which
// comes first in a group and is preferred for its tags as of C).
func (r *resolver) known(e *entry) bool {
	for _, ve := range r.versions {
		if ve.c.VersionID == e.c.VersionID {
			return true
		}
	}

	return false
}
