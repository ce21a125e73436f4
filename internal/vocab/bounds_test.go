package vocab

import (
	"errors"
	"testing"
	"time"
)

func i64(v int64) *int64 { return &v }

func TestValidateBounds(t *testing.T) {
	tests := []struct {
		name string
		err  error
		ok   bool
	}{
		{"delete 1", ValidateDeleteAfterDays(1), true},
		{"delete max", ValidateDeleteAfterDays(MaxDeleteAfterDays), true},
		{"delete max+1", ValidateDeleteAfterDays(MaxDeleteAfterDays + 1), false},
		{"delete 99999", ValidateDeleteAfterDays(99_999), false},
		{"delete 200000", ValidateDeleteAfterDays(200_000), false},
		{"delete 0", ValidateDeleteAfterDays(0), false},
		{"delete -1", ValidateDeleteAfterDays(-1), false},
		{"delete maxint", ValidateDeleteAfterDays(1<<63 - 1), false},
		{"lifecycle none", ValidateLifecycle(nil, nil), true},
		{"lifecycle delete only", ValidateLifecycle(i64(35), nil), true},
		{"lifecycle cold only", ValidateLifecycle(nil, i64(30)), true},
		{"lifecycle cold+90", ValidateLifecycle(i64(120), i64(30)), true},
		{"lifecycle cold+89", ValidateLifecycle(i64(119), i64(30)), false},
		{"lifecycle cold max", ValidateLifecycle(nil, i64(MaxColdStorageAfterDays)), true},
		{"lifecycle cold max+1", ValidateLifecycle(nil, i64(MaxColdStorageAfterDays+1)), false},
		{"lifecycle cold 0", ValidateLifecycle(nil, i64(0)), false},
		{"lifecycle delete too big", ValidateLifecycle(i64(200_000), i64(30)), false},
		// delete - cold must not overflow into a pass.
		{"lifecycle cold minint", ValidateLifecycle(i64(1<<63-1), i64(-1<<63)), false},
		{"start 60", ValidateStartWindow(60), true},
		{"start 59", ValidateStartWindow(59), false},
		{"start max", ValidateStartWindow(MaxWindowMinutes), true},
		{"start max+1", ValidateStartWindow(MaxWindowMinutes + 1), false},
		{"start 200000 days", ValidateStartWindow(200_000 * 1440), false},
		{"complete 60", ValidateCompleteWindow("CompleteWindowMinutes", 60), true},
		{"complete max", ValidateCompleteWindow("CompleteWindowMinutes", MaxWindowMinutes), true},
		{"complete max+1", ValidateCompleteWindow("CompleteWindowMinutes", MaxWindowMinutes+1), false},
		{"complete -5", ValidateCompleteWindow("CompleteWindowMinutes", -5), false},
	}
	for _, tt := range tests {
		if (tt.err == nil) != tt.ok {
			t.Errorf("%s: err %v, want ok=%v", tt.name, tt.err, tt.ok)
		}
		if tt.err != nil && !errors.Is(tt.err, ErrInvalidParameter) {
			t.Errorf("%s: %v does not wrap ErrInvalidParameter", tt.name, tt.err)
		}
	}
}

func TestAddSaturating(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		got  time.Time
		want time.Time
	}{
		{"days 35", AddDays(now, 35), now.Add(35 * 24 * time.Hour)},
		{"days max", AddDays(now, MaxDeleteAfterDays), now.Add(MaxDeleteAfterDays * 24 * time.Hour)},
		{"days 0", AddDays(now, 0), now},
		{"days -3", AddDays(now, -3), now},
		// 99999 and 200000 days overflow time.Duration (292 years): the
		// old computation gave 1716 and 1989.
		{"days 99999", AddDays(now, 99_999), MaxTime},
		{"days 200000", AddDays(now, 200_000), MaxTime},
		{"days maxint", AddDays(now, 1<<63-1), MaxTime},
		{"after MaxTime", AddDays(MaxTime.Add(time.Hour), 1), MaxTime},
		{"minutes 480", AddMinutes(now, 480), now.Add(8 * time.Hour)},
		{"minutes max", AddMinutes(now, MaxWindowMinutes), now.Add(MaxWindowMinutes * time.Minute)},
		{"minutes maxint", AddMinutes(now, 1<<63-1), MaxTime},
	}
	for _, tt := range tests {
		if !tt.got.Equal(tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, tt.got, tt.want)
		}
		if tt.got.Before(now) && tt.name != "after MaxTime" {
			t.Errorf("%s: %v is before the start", tt.name, tt.got)
		}
	}
	// The longest retention and window from now are storable and ahead.
	if d := AddDays(now, MaxDeleteAfterDays); !d.Before(MaxTime) || d.Year() != 2126 {
		t.Errorf("max retention ends %v", d)
	}
}
