package capturelog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/vault"
)

const testRP = "continuous:photos-0123abcd"

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func newVault(t testing.TB) *vault.Vault {
	t.Helper()

	ctx := context.Background()

	v, err := vault.Create(ctx, filepath.Join(t.TempDir(), "v-CAPTURELOG"), "capturelog test secret", vault.Options{})
	if err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() { _ = v.Close(ctx) })

	return v
}

// commitSegment commits one segment in its own session.
func commitSegment(t testing.TB, v *vault.Vault, seq int64, changes []Change) Segment {
	t.Helper()

	ctx := context.Background()

	w, err := v.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}

	seg, err := WriteSegment(ctx, w, testRP, seq, changes)
	if err != nil {
		_ = w.Abort(ctx)
		t.Fatal(err)
	}

	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	return seg
}

func version(key, vid string, mtime time.Time, ord int64, tags map[string]string) Change {
	return Change{Record: recpoint.Record{Key: key, VersionID: vid, LastModified: mtime, Ord: ord, Size: 3,
		ETag: "e-" + vid, Tags: tags, TagsState: recpoint.StateCaptured}, Seen: mtime.Add(time.Second)}
}

func deleteMarker(key, vid string, mtime time.Time, ord int64) Change {
	return Change{Record: recpoint.Record{Key: key, VersionID: vid, LastModified: mtime, Ord: ord, DeleteMarker: true},
		Seen: mtime.Add(time.Second)}
}

func tagChange(key, vid string, seen time.Time, tags map[string]string) Change {
	return Change{Record: recpoint.Record{Key: key, VersionID: vid, Tags: tags}, Seen: seen, Op: OpTags}
}

// summary renders a state as one line per record: key, version, flags, tags.
func summary(recs []recpoint.Record) []string {
	out := []string{}

	for _, r := range recs {
		s := r.Key + " " + r.VersionID
		if r.IsLatest {
			s += " latest"
		}

		if r.DeleteMarker {
			s += " dm"
		}

		if len(r.Tags) > 0 {
			ks := make([]string, 0, len(r.Tags))
			for k, v := range r.Tags {
				ks = append(ks, k+"="+v)
			}

			sort.Strings(ks)
			s += " " + strings.Join(ks, ",")
		}

		out = append(out, s)
	}

	return out
}

func readState(t testing.TB, v *vault.Vault, tm time.Time) []recpoint.Record {
	t.Helper()

	ctx := context.Background()

	p, err := PlanAt(ctx, v, testRP, tm)
	if err != nil {
		t.Fatal(err)
	}

	var out []recpoint.Record

	err = StateAt(ctx, v, p, func(r *recpoint.Record) error {
		out = append(out, *r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	return out
}

// history is a bucket's captured changes spread over segments written out
// of seq order, with duplicates, a same-second tie and a tag change:
//
//	a: v1 at 1s, v2 at 5s, delete marker at 10s
//	b: b1 and b2 (version ids bz and ba, so that their order is not the
//	   ids') both at 3s; the endpoint lists b2 as the newer (ord 1)
//	c: c1 at 2s tagged x=1, retagged x=2 at 6s and x=3 at 8s (the later
//	   tag change in the earlier segment)
//	d: d1 at 20s
func history(t testing.TB, v *vault.Vault) {
	t.Helper()

	a1 := version("a", "a1", at(1*time.Second), 0, nil)
	a2 := version("a", "a2", at(5*time.Second), 1, nil)
	adm := deleteMarker("a", "adm", at(10*time.Second), 2)
	b1 := version("b", "bz", at(3*time.Second), 0, nil)
	b2 := version("b", "ba", at(3*time.Second), 1, nil)
	c1 := version("c", "c1", at(2*time.Second), 0, map[string]string{"x": "1"})
	ctag := tagChange("c", "c1", at(6*time.Second), map[string]string{"x": "2"})
	ctag2 := tagChange("c", "c1", at(8*time.Second), map[string]string{"x": "3"})
	d1 := version("d", "d1", at(20*time.Second), 0, nil)

	// Segment 3 committed first; b1 arrives after b2 (a later segment);
	// a2 and c1 twice.
	commitSegment(t, v, 3, []Change{d1, c1, a2})
	commitSegment(t, v, 1, []Change{ctag2, c1, b2, a2})
	commitSegment(t, v, 2, []Change{ctag, adm, b1, a1, a2})
}

func TestStateAt(t *testing.T) {
	t.Parallel()

	v := newVault(t)
	history(t, v)

	tests := []struct {
		name string
		t    time.Time
		want []string
	}{
		{"before anything", at(500 * time.Millisecond), []string{}},
		{"first version", at(1 * time.Second), []string{"a a1 latest"}},
		{"tie: the endpoint's newer is current", at(3 * time.Second), []string{
			"a a1 latest", "b ba latest", "b bz", "c c1 latest x=1"}},
		{"just before the tag change", at(6*time.Second - time.Nanosecond), []string{
			"a a2 latest", "a a1", "b ba latest", "b bz", "c c1 latest x=1"}},
		{"after the tag change", at(6 * time.Second), []string{
			"a a2 latest", "a a1", "b ba latest", "b bz", "c c1 latest x=2"}},
		{"after the second tag change", at(8 * time.Second), []string{
			"a a2 latest", "a a1", "b ba latest", "b bz", "c c1 latest x=3"}},
		{"the second before the delete", at(9 * time.Second), []string{
			"a a2 latest", "a a1", "b ba latest", "b bz", "c c1 latest x=3"}},
		{"at the delete", at(10 * time.Second), []string{
			"a adm latest dm", "a a2", "a a1", "b ba latest", "b bz", "c c1 latest x=3"}},
		{"everything", at(time.Hour), []string{
			"a adm latest dm", "a a2", "a a1", "b ba latest", "b bz", "c c1 latest x=3", "d d1 latest"}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			if got := summary(readState(t, v, tt.t)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("state at %s:\n got %q\nwant %q", tt.t.Format(time.RFC3339Nano), got, tt.want)
			}
		})
	}
}

// TestCheckpointSameState: after compactions at several times, every
// state equals the state from the segments alone, and a plan after a
// checkpoint reads only the segments above it.
func TestCheckpointSameState(t *testing.T) {
	t.Parallel()

	times := []time.Time{at(0), at(1 * time.Second), at(3 * time.Second), at(5500 * time.Millisecond),
		at(6 * time.Second), at(8 * time.Second), at(9 * time.Second), at(10 * time.Second), at(15 * time.Second), at(time.Hour)}

	tests := []struct {
		name     string
		compacts []time.Duration
		planAt   time.Duration
		wantSegs []int64 // the segments a plan at planAt reads
	}{
		{"one checkpoint before the tag change", []time.Duration{4 * time.Second}, 11 * time.Second, []int64{1, 2, 3}},
		{"one checkpoint between the tag changes", []time.Duration{7 * time.Second}, 11 * time.Second, []int64{1, 2, 3}},
		{"one checkpoint after the tag changes", []time.Duration{9 * time.Second}, 11 * time.Second, []int64{2, 3}},
		{"one checkpoint after everything", []time.Duration{30 * time.Second}, time.Hour, nil},
		{"two checkpoints", []time.Duration{4 * time.Second, 12 * time.Second}, time.Hour, []int64{3}},
		{"three checkpoints", []time.Duration{2 * time.Second, 7 * time.Second, 30 * time.Second}, time.Hour, nil},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			ctx := context.Background()
			v := newVault(t)
			history(t, v)

			want := map[time.Time][]string{}
			for _, tm := range times {
				want[tm] = summary(readState(t, v, tm))
			}

			for _, c := range tt.compacts {
				if _, err := Compact(ctx, v, testRP, at(c)); err != nil {
					t.Fatal(err)
				}
			}

			for _, tm := range times {
				if got := summary(readState(t, v, tm)); !reflect.DeepEqual(got, want[tm]) {
					t.Errorf("state at %s with checkpoints:\n got %q\nwant %q", tm.Format(time.RFC3339Nano), got, want[tm])
				}
			}

			p, err := PlanAt(ctx, v, testRP, at(tt.planAt))
			if err != nil {
				t.Fatal(err)
			}

			var segs []int64
			for _, s := range p.Segments {
				segs = append(segs, s.Seq)
			}

			if p.Checkpoint == nil || !reflect.DeepEqual(segs, tt.wantSegs) {
				t.Errorf("plan at %s: checkpoint %+v, segments %v, want a checkpoint and %v", tt.planAt, p.Checkpoint, segs, tt.wantSegs)
			}
		})
	}
}

// TestSegmentManifest: the payload describes the segment, the stream is
// sorted, and a segment of a session that never commits is absent.
func TestSegmentManifest(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	v := newVault(t)
	history(t, v)

	segs, err := Segments(ctx, v, testRP)
	if err != nil {
		t.Fatal(err)
	}

	got := fmt.Sprintf("%+v", segs[1])
	want := Segment{RP: testRP, Seq: 2, Object: segs[1].Object,
		MinMtime: at(1 * time.Second), MaxMtime: at(10 * time.Second),
		MinSeen: at(2 * time.Second), MaxSeen: at(11 * time.Second),
		MinAt: at(1 * time.Second), MaxAt: at(10 * time.Second),
		Records: 5, Versions: 4, DeleteMarkers: 1, TagChanges: 1, FirstKey: "a", LastKey: "c", Bytes: 9}

	if len(segs) != 3 || segs[0].Seq != 1 || segs[2].Seq != 3 || got != fmt.Sprintf("%+v", want) {
		t.Fatalf("segments %+v\nwant seq 1..3, the second %+v", segs, want)
	}

	// A capture batch that fails before its commit leaves no segment.
	w, err := v.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}

	if _, err := WriteSegment(ctx, w, testRP, 4, []Change{version("e", "e1", at(time.Second), 0, nil)}); err != nil {
		t.Fatal(err)
	}

	if err := w.Abort(ctx); err != nil {
		t.Fatal(err)
	}

	if n, err := NextSeq(ctx, v, testRP); err != nil || n != 4 {
		t.Fatalf("next seq after an aborted segment: %d, %v; want 4", n, err)
	}

	if s := summary(readState(t, v, at(time.Hour))); len(s) != 7 {
		t.Fatalf("aborted segment visible: %q", s)
	}
}

func TestWriteSegmentRefuses(t *testing.T) {
	t.Parallel()

	v := newVault(t)
	ctx := context.Background()

	tests := []struct {
		name    string
		seq     int64
		changes []Change
	}{
		{"no changes", 1, nil},
		{"seq zero", 0, []Change{version("a", "1", at(0), 0, nil)}},
		{"no key", 1, []Change{version("", "1", at(0), 0, nil)}},
		{"no mtime", 1, []Change{version("a", "1", time.Time{}, 0, nil)}},
		{"tag change without version", 1, []Change{tagChange("a", "", at(0), nil)}},
		{"tag change without time", 1, []Change{tagChange("a", "1", time.Time{}, nil)}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := v.NewWriter(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Abort(ctx) //nolint:errcheck // test

			if _, err := WriteSegment(ctx, w, testRP, tt.seq, tt.changes); !errors.Is(err, ErrInvalid) {
				t.Fatalf("WriteSegment: %v, want ErrInvalid", err)
			}
		})
	}
}

// TestWriteStateAtIsARecordStream: the state at T is a coffer-records
// stream that recpoint's reader (the restore engine's) takes, current
// version first per key.
func TestWriteStateAtIsARecordStream(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	v := newVault(t)
	history(t, v)

	p, err := PlanAt(ctx, v, testRP, at(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}

	var buf bytes.Buffer

	n, err := WriteStateAt(ctx, v, p, &buf)
	if err != nil {
		t.Fatal(err)
	}

	rd, err := recpoint.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}

	var got []recpoint.Record

	for {
		var r recpoint.Record

		err := rd.Next(&r)
		if errors.Is(err, io.EOF) {
			break
		}

		if err != nil {
			t.Fatal(err)
		}

		got = append(got, r)
	}

	want := []string{"a adm latest dm", "a a2", "a a1", "b ba latest", "b bz", "c c1 latest x=3"}
	if s := summary(got); n != int64(len(want)) || !reflect.DeepEqual(s, want) {
		t.Fatalf("stream of %d records: %q, want %q", n, s, want)
	}

	if got[3].Ord != 1 || got[3].Data != "" || got[3].ETag != "e-ba" {
		t.Fatalf("record of b's current version: %+v", got[3])
	}
}
