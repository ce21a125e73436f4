package capture

import (
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/capturelog"
	"github.com/cofferbackup/coffer/internal/clock"
	"github.com/cofferbackup/coffer/internal/jobs"
)

// TestRetainFrom: the capture log's new start is the window's start
// (now - DeleteAfterDays, never past the covered time) rounded down, and
// only when it moves the start.
func TestRetainFrom(t *testing.T) {
	now := time.Date(2026, 6, 10, 12, 34, 56, 0, time.UTC)
	day := 24 * time.Hour
	tests := []struct {
		name string
		st   capturelog.State
		want time.Time // zero: nothing to do
	}{
		{"no retention", capturelog.State{Covered: now}, time.Time{}},
		{"nothing captured yet", capturelog.State{DeleteAfterDays: 1}, time.Time{}},
		{"the window's start, rounded down", capturelog.State{DeleteAfterDays: 1, Covered: now},
			time.Date(2026, 6, 9, 12, 0, 0, 0, time.UTC)},
		{"never past the covered time", capturelog.State{DeleteAfterDays: 1, Covered: now.Add(-3 * day)},
			time.Date(2026, 6, 7, 12, 0, 0, 0, time.UTC)},
		{"already there", capturelog.State{DeleteAfterDays: 1, Covered: now, Compacted: time.Date(2026, 6, 9, 12, 0, 0, 0, time.UTC)},
			time.Time{}},
		{"an hour later", capturelog.State{DeleteAfterDays: 1, Covered: now, Compacted: time.Date(2026, 6, 9, 11, 0, 0, 0, time.UTC)},
			time.Date(2026, 6, 9, 12, 0, 0, 0, time.UTC)},
	}
	c := &Captures{cfg: Config{Deps: jobs.Deps{Clock: clock.NewFake(now)}, CompactRound: DefaultCompactRound}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := c.retainFrom(&tt.st)
			if ok != !tt.want.IsZero() || (ok && !got.Equal(tt.want)) {
				t.Errorf("retainFrom = %s, %v; want %s", got, ok, tt.want)
			}
		})
	}
}
