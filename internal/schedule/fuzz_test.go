package schedule

import (
	"testing"
	"time"
)

var fuzzZones = []string{"", "Europe/Paris", "America/New_York", "Australia/Lord_Howe", "America/Santiago", "Asia/Kolkata", "Pacific/Apia", "Bogus/Zone"}

// matchesWall reports whether a cron spec selects the wall time of t.
func (c *cronSpec) matchesWall(t time.Time) bool {
	y, mo, d := t.Date()
	return c.years.has(y-MinYear) && c.months.has(int(mo)-1) && c.nextDay(y, int(mo), d) == d &&
		c.hours.has(t.Hour()) && c.minutes.has(t.Minute()) && t.Second() == 0 && t.Nanosecond() == 0
}

// FuzzParseNext: Parse never panics; runs are strictly increasing, strictly
// after their argument, in range, consistent with Next from just before
// them, and (in UTC) on wall times the expression selects.
func FuzzParseNext(f *testing.F) {
	for _, seed := range []string{
		"cron(0 5 * * ? *)", "cron(*/15 * * * ? *)", "cron(0 0 L * ? *)", "cron(0 0 LW * ? *)",
		"cron(0 0 15W * ? *)", "cron(0 12 ? * 6#3 *)", "cron(0 12 ? * 5L *)", "cron(0 12 ? * L *)",
		"cron(0 22-2/3 28-3 NOV-FEB ? 2026-2030)", "cron(30 2 * * ? *)", "cron(0 0 29 2 ? 2196-2199)",
		"cron(0 0 ? * FRI-MON/2 *)", "cron(5,10 1,2 1 1 ? 1970)", "cron(0 5 * * * *)", "cron(0 5 ? * ? *)",
		"rate(1 hour)", "rate(12 hours)", "rate(7 days)", "rate(1 minute)", "rate(1 hours)", "rate(99999 days)",
		"cron()", "rate()", "cron(0 0 1W,2 * ? *)", "cron(0 0 ? * 3#1,6#3 *)", "cron(0/0 * * * ? *)",
	} {
		for i := range fuzzZones[:4] {
			f.Add(seed, uint8(i), int64(1767225600+int64(i)*86400*97), int64(1735689600))
		}
	}
	f.Fuzz(func(t *testing.T, expr string, zone uint8, afterSec, anchorSec int64) {
		tz := fuzzZones[int(zone)%len(fuzzZones)]
		anchor := time.Unix(anchorSec%(1<<37), 0)
		s, err := Parse(expr, tz, anchor)
		_ = ValidateBackupFrequency(expr)
		if err != nil {
			if s != nil {
				t.Fatalf("Parse returned %v with error %v", s, err)
			}
			return
		}
		_ = s.String()
		after := time.Unix(afterSec%(1<<36), int64(uint64(afterSec)%1e9))
		runs := s.NextN(after, 4)
		prev := after
		for _, r := range runs {
			if !r.After(prev) {
				t.Fatalf("%s in %q: run %v not after %v", expr, tz, r, prev)
			}
			if r.In(s.Location()).Year() > MaxYear {
				t.Fatalf("%s: run %v past %d", expr, r, MaxYear)
			}
			if again := s.Next(r.Add(-time.Nanosecond)); !again.Equal(r) {
				t.Fatalf("%s in %q: Next(%v - 1ns) = %v, want the run itself", expr, tz, r, again)
			}
			if s.cron != nil && (tz == "" || tz == "Asia/Kolkata") && !s.cron.matchesWall(r.In(s.Location())) {
				t.Fatalf("%s: run %v not selected by the expression", expr, r)
			}
			prev = r
		}
	})
}
