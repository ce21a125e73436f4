package capturelog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vaultmaint"
)

// retained is the state at tm once retention moved the log's start to c:
// the full state at tm without the versions superseded at or before c.
func retained(t *testing.T, v *vault.Vault, c, tm time.Time) []string {
	t.Helper()

	gone := map[string]bool{}
	for _, r := range readState(t, v, c) {
		if !r.IsLatest {
			gone[r.Key+" "+r.VersionID] = true
		}
	}

	var keep []recpoint.Record
	for _, r := range readState(t, v, tm) {
		if !gone[r.Key+" "+r.VersionID] {
			keep = append(keep, r)
		}
	}

	return summary(keep)
}

// TestRetain: after Retain at c every state at c or later equals the
// state from the segments alone without what c superseded, also while
// the absorbed segments are still present (a crash before Sweep), when
// states before c still read the old segments exactly; Sweep then deletes
// them and a second retention starts from the first.
func TestRetain(t *testing.T) {
	t.Parallel()

	times := []time.Duration{0, 1 * time.Second, 3 * time.Second, 5500 * time.Millisecond, 6 * time.Second,
		8 * time.Second, 9 * time.Second, 10 * time.Second, 15 * time.Second, 20 * time.Second, time.Hour}

	tests := []struct {
		name     string
		retains  []time.Duration
		wantCkpt int64 // records of the last checkpoint
	}{
		{"before the tag changes", []time.Duration{4 * time.Second}, 3},
		{"between the tag changes", []time.Duration{7 * time.Second}, 3},
		{"after the delete", []time.Duration{12 * time.Second}, 3},
		{"after everything", []time.Duration{30 * time.Second}, 4},
		{"twice", []time.Duration{4 * time.Second, 12 * time.Second}, 3},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			ctx := context.Background()
			v := newVault(t)
			history(t, v)

			last := at(tt.retains[len(tt.retains)-1])
			want, before := map[time.Duration][]string{}, map[time.Duration][]string{}
			for _, d := range times {
				before[d] = summary(readState(t, v, at(d)))
				if !at(d).Before(last) {
					want[d] = retained(t, v, last, at(d))
				}
			}

			st := State{RP: testRP, Versions: 8}
			for i, d := range tt.retains {
				var r Retained
				var err error
				if st, r, err = Retain(ctx, v, st, at(d)); err != nil {
					t.Fatal(err)
				}

				if i == len(tt.retains)-1 && r.Checkpoint.Records != tt.wantCkpt {
					t.Errorf("checkpoint of %d records, want %d", r.Checkpoint.Records, tt.wantCkpt)
				}

				// A crash here: nothing swept yet.
				if i == 0 {
					for _, d := range times {
						if at(d).Before(at(tt.retains[0])) {
							if got := summary(readState(t, v, at(d))); !reflect.DeepEqual(got, before[d]) {
								t.Errorf("before the sweep, state at %s:\n got %q\nwant %q", d, got, before[d])
							}
						}
					}
				}

				if _, err := Sweep(ctx, v, testRP); err != nil {
					t.Fatal(err)
				}
			}

			for d, w := range want {
				if got := summary(readState(t, v, at(d))); !reflect.DeepEqual(got, w) {
					t.Errorf("state at %s after retention from %s:\n got %q\nwant %q", d, tt.retains, got, w)
				}
			}

			got, found, err := LoadState(ctx, v, testRP)
			if err != nil || !found || !got.Compacted.Equal(last) || got.Versions != st.Versions {
				t.Errorf("state after retention: %+v %v %v, want compacted %s", got, found, err, last)
			}

			cps, _ := Checkpoints(ctx, v, testRP)
			segs, _ := Segments(ctx, v, testRP)
			for _, s := range segs {
				if s.Seq <= cps[len(cps)-1].MaxSeq {
					t.Errorf("segment %d left after the sweep (checkpoint absorbs up to %d)", s.Seq, cps[len(cps)-1].MaxSeq)
				}
			}

			if len(cps) != 1 {
				t.Errorf("%d checkpoints after the sweep, want 1", len(cps))
			}

			if _, _, err := Retain(ctx, v, st, last); !errors.Is(err, ErrNothingToRetain) {
				t.Errorf("Retain again at %s: %v, want ErrNothingToRetain", last, err)
			}
		})
	}
}

// TestRetainReclaims: after retention, sweep and maintenance, the data of
// a version superseded before the window's start is gone from the vault,
// and the data of the versions the window needs is still there.
func TestRetainReclaims(t *testing.T) {
	t.Parallel()

	ctx := context.Background()

	v, err := vault.Create(ctx, filepath.Join(t.TempDir(), "v-RECLAIM"), "capturelog test secret", vault.Options{Safety: vault.SafetySoleWriter})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close(ctx) })

	data := map[string]string{}
	w, err := v.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}

	var changes []Change
	for i, vid := range []string{"x1", "x2", "x3"} {
		oid, _, err := w.WriteObject(ctx, bytes.NewReader(bytes.Repeat([]byte(vid), 40_000)))
		if err != nil {
			t.Fatal(err)
		}

		c := version("x", vid, at(time.Duration(i*10)*time.Second), int64(i), nil)
		c.Data, c.Size = string(oid), 80_000
		data[vid] = string(oid)
		changes = append(changes, c)
	}

	// Three segments, one version each.
	for i := range changes {
		if _, err := WriteSegment(ctx, w, testRP, int64(i+1), changes[i:i+1]); err != nil {
			t.Fatal(err)
		}
	}

	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	// Window from 15 s: x1 (superseded at 10 s) goes, x2 (current at 15 s)
	// and x3 stay.
	st, r, err := Retain(ctx, v, State{RP: testRP}, at(15*time.Second))
	if err != nil {
		t.Fatal(err)
	}

	if _, err := Sweep(ctx, v, testRP); err != nil {
		t.Fatal(err)
	}

	if st.Versions != 2 || st.Bytes != 160_000 || r.Absorbed != 3 || r.Merged != 1 {
		t.Fatalf("after retention: %d versions, %d bytes, %+v; want 2, 160000, 3 absorbed into 1", st.Versions, st.Bytes, r)
	}

	ms, err := vaultmaint.Maintain(ctx, v)
	if err != nil {
		t.Fatal(err)
	}

	for vid, want := range map[string]bool{"x1": false, "x2": true, "x3": true} {
		rd, err := v.OpenObject(ctx, vault.ObjectID(data[vid]))
		if err == nil {
			_, err = io.Copy(io.Discard, rd)
			rd.Close()
		}

		if (err == nil) != want {
			t.Errorf("data of %s after maintenance: %v, want present %v (maintenance %+v)", vid, err, want, ms)
		}
	}

	if got := summary(readState(t, v, at(time.Hour))); fmt.Sprint(got) != "[x x3 latest x x2]" {
		t.Errorf("state after maintenance: %q", got)
	}
}
