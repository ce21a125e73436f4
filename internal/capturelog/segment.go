package capturelog

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/cofferbackup/coffer/internal/vault"
)

// Manifest types and labels of the capture log.
const (
	TypeSegment    = vault.CaptureManifestPrefix + "segment"
	TypeCheckpoint = vault.CaptureManifestPrefix + "checkpoint"

	labelRP  = "rp"
	labelSeq = "seq"
	labelAt  = "at"
)

// Segment is a segment's manifest payload: enough to plan a restore
// without reading the segment.
type Segment struct {
	RP     string `json:"rp"`
	Seq    int64  `json:"seq"`
	Object string `json:"object"` // vault object id of the coffer-changes stream

	// MinMtime and MaxMtime span the versions' LastModified (zero when the
	// segment holds tag changes only); MinSeen and MaxSeen every record's
	// Seen; MinAt and MaxAt the times from which the records are in effect
	// (a version's mtime, a tag change's seen), which planning uses.
	MinMtime time.Time `json:"min_mtime"`
	MaxMtime time.Time `json:"max_mtime"`
	MinSeen  time.Time `json:"min_seen"`
	MaxSeen  time.Time `json:"max_seen"`
	MinAt    time.Time `json:"min_at"`
	MaxAt    time.Time `json:"max_at"`

	Records       int64  `json:"records"`
	Versions      int64  `json:"versions"` // delete markers included
	DeleteMarkers int64  `json:"delete_markers"`
	TagChanges    int64  `json:"tag_changes"`
	FirstKey      string `json:"first_key"`
	LastKey       string `json:"last_key"`
	// Bytes is the size of the versions' data (zero in segments written
	// before it was recorded).
	Bytes int64 `json:"bytes,omitempty"`
}

func (s *Segment) add(c *Change) {
	s.Records++
	if s.Records == 1 {
		s.FirstKey = c.Key
	}

	s.LastKey = c.Key
	s.MinSeen, s.MaxSeen = minTime(s.MinSeen, c.Seen), maxTime(s.MaxSeen, c.Seen)
	s.MinAt, s.MaxAt = minTime(s.MinAt, c.at()), maxTime(s.MaxAt, c.at())

	if c.Op == OpTags {
		s.TagChanges++
		return
	}

	s.Versions++
	if c.DeleteMarker {
		s.DeleteMarkers++
	} else {
		s.Bytes += c.Size
	}

	s.MinMtime, s.MaxMtime = minTime(s.MinMtime, c.LastModified), maxTime(s.MaxMtime, c.LastModified)
}

// minTime and maxTime treat the zero time as "none yet".
func minTime(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}

	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}

	return a
}

// WriteSegment writes changes (any order; the input is not modified) as
// segment seq of continuous recovery point rp in the write session w: the
// stream object and its manifest become visible together when the caller
// commits w, with the data objects the changes name, so a segment is
// complete or absent. Duplicated changes are kept: readers ignore them.
func WriteSegment(ctx context.Context, w *vault.Writer, rp string, seq int64, changes []Change) (Segment, error) {
	seg, err := writeSegment(ctx, w, rp, seq, changes)
	if err != nil {
		return Segment{}, fmt.Errorf("capture log %q: write segment %d: %w", rp, seq, err)
	}

	return seg, nil
}

func writeSegment(ctx context.Context, w *vault.Writer, rp string, seq int64, changes []Change) (Segment, error) {
	if rp == "" || seq <= 0 || len(changes) == 0 {
		return Segment{}, fmt.Errorf("%w: need a recovery point, a positive seq and changes", ErrInvalid)
	}

	sorted := make([]*Change, len(changes))
	for i := range changes {
		if err := validChange(&changes[i]); err != nil {
			return Segment{}, err
		}

		sorted[i] = &changes[i]
	}

	slices.SortStableFunc(sorted, compareChanges)

	seg := Segment{RP: rp, Seq: seq}

	var buf bytes.Buffer

	cw, err := newChangeWriter(&buf)
	if err != nil {
		return Segment{}, err
	}

	for _, c := range sorted {
		out := *c
		out.IsLatest = false // "current" is decided at restore time

		if err := cw.write(&out); err != nil {
			return Segment{}, err
		}

		seg.add(&out)
	}

	if err := cw.flush(); err != nil {
		return Segment{}, fmt.Errorf("encode: %w", err)
	}

	oid, _, err := writeStream(ctx, w, &buf)
	if err != nil {
		return Segment{}, err
	}

	seg.Object = string(oid)

	labels := map[string]string{labelRP: rp, labelSeq: strconv.FormatInt(seq, 10)}
	if err := putManifest(ctx, w, TypeSegment, labels, seg); err != nil {
		return Segment{}, err
	}

	return seg, nil
}

// Segments lists the committed segments of rp by seq (from the manifests).
func Segments(ctx context.Context, v *vault.Vault, rp string) ([]Segment, error) {
	out, err := loadManifests[Segment](ctx, v, TypeSegment, rp)
	if err != nil {
		return nil, err
	}

	slices.SortStableFunc(out, func(a, b Segment) int { return cmp.Compare(a.Seq, b.Seq) })

	return out, nil
}

// NextSeq is the seq a new segment of rp takes: one above every segment
// and every checkpoint's absorbed seq. The capture of one protection runs
// in one job at a time, so two writers never race for it.
func NextSeq(ctx context.Context, v *vault.Vault, rp string) (int64, error) {
	segs, err := Segments(ctx, v, rp)
	if err != nil {
		return 0, err
	}

	cps, err := Checkpoints(ctx, v, rp)
	if err != nil {
		return 0, err
	}

	var top int64
	for _, s := range segs {
		top = max(top, s.Seq)
	}

	for _, c := range cps {
		top = max(top, c.MaxSeq)
	}

	return top + 1, nil
}

func loadManifests[T any](ctx context.Context, v *vault.Vault, typ, rp string) ([]T, error) {
	out, err := loadLabelled[T](ctx, v, typ, map[string]string{labelRP: rp})
	if err != nil {
		return nil, fmt.Errorf("capture log %q: %w", rp, err)
	}

	return out, nil
}

// loadAll reads the manifests of type typ of every recovery point.
func loadAll[T any](ctx context.Context, v *vault.Vault, typ string) ([]T, error) {
	out, err := loadLabelled[T](ctx, v, typ, map[string]string{})
	if err != nil {
		return nil, fmt.Errorf("capture log: %w", err)
	}

	return out, nil
}

func loadLabelled[T any](ctx context.Context, v *vault.Vault, typ string, labels map[string]string) ([]T, error) {
	raws, err := manifests(ctx, v, typ, labels)
	if err != nil {
		return nil, err
	}

	out := make([]T, 0, len(raws))

	for _, raw := range raws {
		var m T
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("decode %s manifest: %w", typ, err)
		}

		out = append(out, m)
	}

	return out, nil
}
