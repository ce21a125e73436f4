package schedule

import (
	"testing"
	"time"
)

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// nextCases: successive runs of expr in tz after after; a final "end"
// means there are no more.
var nextCases = []struct {
	name, expr, tz, after string
	want                  []string
}{
	{"every hour", "cron(0 * * * ? *)", "", "2026-01-31T22:30:00Z",
		[]string{"2026-01-31T23:00:00Z", "2026-02-01T00:00:00Z", "2026-02-01T01:00:00Z", "2026-02-01T02:00:00Z", "2026-02-01T03:00:00Z"}},
	{"strictly after a run", "cron(0 * * * ? *)", "", "2026-01-31T23:00:00Z",
		[]string{"2026-02-01T00:00:00Z", "2026-02-01T01:00:00Z"}},
	{"same minute, later second", "cron(0 5 * * ? *)", "", "2026-01-31T05:00:00.001Z",
		[]string{"2026-02-01T05:00:00Z"}},
	{"one nanosecond before", "cron(0 5 * * ? *)", "", "2026-01-31T04:59:59.999999999Z",
		[]string{"2026-01-31T05:00:00Z"}},
	{"every 15 min", "cron(*/15 * * * ? *)", "", "2026-12-31T23:40:00Z",
		[]string{"2026-12-31T23:45:00Z", "2027-01-01T00:00:00Z", "2027-01-01T00:15:00Z"}},
	{"minutes 1/10", "cron(1/10 3 * * ? *)", "", "2026-05-05T03:45:00Z",
		[]string{"2026-05-05T03:51:00Z", "2026-05-06T03:01:00Z", "2026-05-06T03:11:00Z"}},
	{"hours wrap 22-2", "cron(0 22-2/2 * * ? *)", "", "2026-05-05T12:00:00Z",
		[]string{"2026-05-05T22:00:00Z", "2026-05-06T00:00:00Z", "2026-05-06T02:00:00Z", "2026-05-06T22:00:00Z"}},
	// Europe/Paris: CET->CEST 2026-03-29 01:00Z, CEST->CET 2026-10-25 01:00Z.
	{"Paris 05:00 spring", "cron(0 5 * * ? *)", "Europe/Paris", "2026-03-27T12:00:00Z",
		[]string{"2026-03-28T05:00:00+01:00", "2026-03-29T05:00:00+02:00", "2026-03-30T05:00:00+02:00"}},
	{"Paris 05:00 autumn", "cron(0 5 * * ? *)", "Europe/Paris", "2026-10-23T12:00:00Z",
		[]string{"2026-10-24T05:00:00+02:00", "2026-10-25T05:00:00+01:00", "2026-10-26T05:00:00+01:00"}},
	{"Paris 02:30 in the gap fires at gap end", "cron(30 2 * * ? *)", "Europe/Paris", "2026-03-27T12:00:00Z",
		[]string{"2026-03-28T02:30:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"}},
	{"Paris 02:30 repeated fires once", "cron(30 2 * * ? *)", "Europe/Paris", "2026-10-23T12:00:00Z",
		[]string{"2026-10-24T02:30:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"}},
	{"Paris after first 02:30 occurrence", "cron(30 2 * * ? *)", "Europe/Paris", "2026-10-25T00:30:00Z",
		[]string{"2026-10-26T02:30:00+01:00"}},
	{"Paris from inside the repeated hour", "cron(45 2 * * ? *)", "Europe/Paris", "2026-10-25T01:10:00Z",
		[]string{"2026-10-26T02:45:00+01:00"}},
	{"Paris hourly spring: 02:00 and 03:00 collapse", "cron(0 * * * ? *)", "Europe/Paris", "2026-03-28T23:30:00Z",
		[]string{"2026-03-29T01:00:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T04:00:00+02:00"}},
	{"Paris hourly autumn: second 02:00 skipped", "cron(0 * * * ? *)", "Europe/Paris", "2026-10-24T23:30:00Z",
		[]string{"2026-10-25T02:00:00+02:00", "2026-10-25T03:00:00+01:00", "2026-10-25T04:00:00+01:00"}},
	{"Paris gap times collapse", "cron(0,20,40 2 * * ? *)", "Europe/Paris", "2026-03-28T12:00:00Z",
		[]string{"2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00"}},
	// America/New_York: EST->EDT 2026-03-08 07:00Z, EDT->EST 2026-11-01 06:00Z.
	{"New York 02:30 gap", "cron(30 2 * * ? *)", "America/New_York", "2026-03-06T12:00:00Z",
		[]string{"2026-03-07T02:30:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"}},
	{"New York 01:30 repeated", "cron(30 1 * * ? *)", "America/New_York", "2026-10-31T12:00:00Z",
		[]string{"2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"}},
	{"New York 09:00 weekdays across DST", "cron(0 9 ? * MON-FRI *)", "America/New_York", "2026-03-05T15:00:00Z",
		[]string{"2026-03-06T09:00:00-05:00", "2026-03-09T09:00:00-04:00", "2026-03-10T09:00:00-04:00"}},
	{"last day incl. leap February", "cron(0 0 L * ? *)", "", "2028-01-15T00:00:00Z",
		[]string{"2028-01-31T00:00:00Z", "2028-02-29T00:00:00Z", "2028-03-31T00:00:00Z", "2028-04-30T00:00:00Z"}},
	{"last day non-leap February", "cron(0 0 L 2 ? *)", "", "2026-01-01T00:00:00Z",
		[]string{"2026-02-28T00:00:00Z", "2027-02-28T00:00:00Z", "2028-02-29T00:00:00Z"}},
	{"LW", "cron(0 0 LW * ? *)", "", "2026-01-01T00:00:00Z",
		[]string{"2026-01-30T00:00:00Z", "2026-02-27T00:00:00Z", "2026-03-31T00:00:00Z", "2026-04-30T00:00:00Z", "2026-05-29T00:00:00Z"}},
	{"15W on Sunday and Saturday", "cron(0 0 15W * ? *)", "", "2026-01-20T00:00:00Z",
		[]string{"2026-02-16T00:00:00Z", "2026-03-16T00:00:00Z", "2026-04-15T00:00:00Z"}},
	{"15W Saturday", "cron(0 0 15W 8 ? *)", "", "2026-01-01T00:00:00Z",
		[]string{"2026-08-14T00:00:00Z", "2027-08-16T00:00:00Z"}},
	{"1W Saturday stays in month", "cron(0 0 1W 8 ? *)", "", "2026-01-01T00:00:00Z",
		[]string{"2026-08-03T00:00:00Z", "2027-08-02T00:00:00Z"}},
	{"31W Sunday stays in month, short months skipped", "cron(0 0 31W * ? *)", "", "2026-01-01T00:00:00Z",
		[]string{"2026-01-30T00:00:00Z", "2026-03-31T00:00:00Z", "2026-05-29T00:00:00Z", "2026-07-31T00:00:00Z", "2026-08-31T00:00:00Z"}},
	{"6#3 third Friday", "cron(0 12 ? * 6#3 *)", "", "2026-01-01T00:00:00Z",
		[]string{"2026-01-16T12:00:00Z", "2026-02-20T12:00:00Z", "2026-03-20T12:00:00Z"}},
	{"2#5 fifth Monday skips months", "cron(0 0 ? * MON#5 *)", "", "2026-01-01T00:00:00Z",
		[]string{"2026-03-30T00:00:00Z", "2026-06-29T00:00:00Z", "2026-08-31T00:00:00Z", "2026-11-30T00:00:00Z"}},
	{"5L last Thursday", "cron(0 12 ? * 5L *)", "", "2026-01-01T00:00:00Z",
		[]string{"2026-01-29T12:00:00Z", "2026-02-26T12:00:00Z", "2026-03-26T12:00:00Z", "2026-04-30T12:00:00Z"}},
	{"L in day-of-week is Saturday", "cron(0 0 ? * L *)", "", "2026-01-01T00:00:00Z",
		[]string{"2026-01-03T00:00:00Z", "2026-01-10T00:00:00Z"}},
	{"? in day-of-week", "cron(0 8 1,15 * ? *)", "", "2026-01-10T00:00:00Z",
		[]string{"2026-01-15T08:00:00Z", "2026-02-01T08:00:00Z", "2026-02-15T08:00:00Z"}},
	{"? in day-of-month, names", "cron(0 18 ? * TUE,THU *)", "", "2026-01-01T00:00:00Z",
		[]string{"2026-01-01T18:00:00Z", "2026-01-06T18:00:00Z", "2026-01-08T18:00:00Z"}},
	{"day-of-week wraps FRI-MON", "cron(0 0 ? * FRI-MON *)", "", "2026-01-01T00:00:00Z",
		[]string{"2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z", "2026-01-05T00:00:00Z", "2026-01-09T00:00:00Z"}},
	{"monthly on 31 skips short months", "cron(0 0 31 * ? *)", "", "2026-01-01T00:00:00Z",
		[]string{"2026-01-31T00:00:00Z", "2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z", "2026-08-31T00:00:00Z"}},
	{"quarterly", "cron(0 0 1 */3 ? *)", "", "2026-02-01T00:00:00Z",
		[]string{"2026-04-01T00:00:00Z", "2026-07-01T00:00:00Z", "2026-10-01T00:00:00Z", "2027-01-01T00:00:00Z"}},
	{"year range ends", "cron(0 0 1 1 ? 2026-2027)", "", "2025-06-01T00:00:00Z",
		[]string{"2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", "end"}},
	{"year range already over", "cron(0 0 1 1 ? 2026-2027)", "", "2027-01-01T00:00:00Z", []string{"end"}},
	{"leap day near the end of the range", "cron(0 0 29 2 ? 2196-2199)", "", "2026-01-01T00:00:00Z",
		[]string{"2196-02-29T00:00:00Z", "end"}},
	{"last possible run", "cron(59 23 31 12 ? *)", "", "2199-06-01T00:00:00Z",
		[]string{"2199-12-31T23:59:00Z", "end"}},
	{"past the range", "cron(0 0 * * ? *)", "", "2200-01-01T00:00:00Z", []string{"end"}},
	{"before the range", "cron(0 0 1 1 ? *)", "", "1900-05-01T00:00:00Z",
		[]string{"1970-01-01T00:00:00Z", "1971-01-01T00:00:00Z"}},
	{"never: 30 February", "cron(0 0 30 2 ? *)", "", "2026-01-01T00:00:00Z", []string{"end"}},
	{"year steps", "cron(0 0 1 1 ? 2026/5)", "", "2026-06-01T00:00:00Z",
		[]string{"2031-01-01T00:00:00Z", "2036-01-01T00:00:00Z"}},
	{"Kolkata +05:30", "cron(0 0 1 * ? *)", "Asia/Kolkata", "2026-01-01T00:00:00Z",
		[]string{"2026-01-31T18:30:00Z", "2026-02-28T18:30:00Z"}},
	{"Lord Howe 30-min DST gap", "cron(15 2 * * ? *)", "Australia/Lord_Howe", "2026-10-03T00:00:00Z",
		[]string{"2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"}},
}

func TestNext(t *testing.T) {
	for _, tt := range nextCases {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse(tt.expr, tt.tz)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			n := len(want)
			if n > 0 && want[n-1] == "end" {
				want = want[:n-1] // NextN(n) must stop short
			}
			got := s.NextN(mustTime(t, tt.after), n)
			if len(got) != len(want) {
				t.Fatalf("%s after %s: got %d runs %v, want %v", tt.expr, tt.after, len(got), got, tt.want)
			}
			for i, w := range want {
				if !got[i].Equal(mustTime(t, w)) {
					t.Errorf("%s run %d = %s, want %s", tt.expr, i, got[i].Format(time.RFC3339), w)
				}
				if got[i].Location() != s.Location() {
					t.Errorf("run %d in zone %v, want %v", i, got[i].Location(), s.Location())
				}
			}
		})
	}
}

func TestNextRate(t *testing.T) {
	tests := []struct {
		expr, tz, anchor, after string
		want                    []string
	}{
		{"rate(1 hour)", "", "2026-03-01T10:17:30Z", "2026-03-01T12:00:00Z",
			[]string{"2026-03-01T12:17:30Z", "2026-03-01T13:17:30Z", "2026-03-01T14:17:30Z"}},
		{"rate(1 hour)", "", "2026-03-01T10:17:30Z", "2026-03-01T12:17:30Z",
			[]string{"2026-03-01T13:17:30Z"}},
		{"rate(1 hour)", "", "2026-03-01T10:17:30Z", "2026-01-01T00:00:00Z", // before the anchor: anchor + 1h
			[]string{"2026-03-01T11:17:30Z", "2026-03-01T12:17:30Z"}},
		{"rate(1 hour)", "", "2026-03-01T10:17:30Z", "2026-03-01T10:17:30Z", // the anchor itself is no run
			[]string{"2026-03-01T11:17:30Z"}},
		{"rate(12 hours)", "", "2026-03-01T10:17:30Z", "2026-03-05T00:00:00Z",
			[]string{"2026-03-05T10:17:30Z", "2026-03-05T22:17:30Z", "2026-03-06T10:17:30Z"}},
		{"rate(7 days)", "", "2026-03-01T10:17:30Z", "2026-03-15T10:17:29Z",
			[]string{"2026-03-15T10:17:30Z", "2026-03-22T10:17:30Z", "2026-03-29T10:17:30Z"}},
		{"rate(1 day)", "Europe/Paris", "2026-03-27T04:00:00Z", "2026-03-27T12:00:00Z", // elapsed time, not wall clock
			[]string{"2026-03-28T05:00:00+01:00", "2026-03-29T06:00:00+02:00", "2026-03-30T06:00:00+02:00"}},
		{"rate(90 minutes)", "", "", "2026-03-01T00:00:00Z", // default epoch anchor
			[]string{"2026-03-01T01:30:00Z", "2026-03-01T03:00:00Z"}},
		{"rate(1 day)", "", "", "2199-12-30T12:00:00Z",
			[]string{"2199-12-31T00:00:00Z"}},
		{"rate(1 day)", "", "", "2300-01-01T00:00:00Z", nil},
		{"rate(100000 days)", "", "2150-01-01T00:00:00Z", "2150-01-01T00:00:00Z", nil},
	}
	for _, tt := range tests {
		var a time.Time
		if tt.anchor != "" {
			a = mustTime(t, tt.anchor)
		}
		s, err := Parse(tt.expr, tt.tz, a)
		if err != nil {
			t.Fatal(err)
		}
		if want := a; !a.IsZero() && !s.Anchor().Equal(want) || a.IsZero() && !s.Anchor().Equal(time.Unix(0, 0)) {
			t.Errorf("Anchor() = %v, want %v or the epoch", s.Anchor(), want)
		}
		got := s.NextN(mustTime(t, tt.after), len(tt.want)+1)
		if len(got) < len(tt.want) || (len(tt.want) == 0 && len(got) != 0) {
			t.Fatalf("%s anchor %s after %s: got %v, want %v", tt.expr, tt.anchor, tt.after, got, tt.want)
		}
		for i, w := range tt.want {
			if !got[i].Equal(mustTime(t, w)) {
				t.Errorf("%s anchor %s after %s: run %d = %s, want %s", tt.expr, tt.anchor, tt.after, i, got[i].Format(time.RFC3339), w)
			}
		}
	}
	if got := MustParse("rate(12 hours)", "").Interval(); got != 12*time.Hour {
		t.Errorf("Interval = %v", got)
	}
	if !MustParse("rate(12 hours)", "").IsRate() || MustParse("cron(0 0 * * ? *)", "").IsRate() {
		t.Error("IsRate wrong")
	}
}

func TestNextN(t *testing.T) {
	s := MustParse("cron(0 0 1 1 ? 2026-2028)", "")
	after := mustTime(t, "2020-01-01T00:00:00Z")
	if got := s.NextN(after, 0); len(got) != 0 {
		t.Errorf("NextN(0) = %v", got)
	}
	if got := s.NextN(after, -1); len(got) != 0 {
		t.Errorf("NextN(-1) = %v", got)
	}
	if got := s.NextN(after, 2); len(got) != 2 || got[1].Year() != 2027 {
		t.Errorf("NextN(2) = %v", got)
	}
	if got := s.NextN(after, 10); len(got) != 3 || got[2].Year() != 2028 {
		t.Errorf("NextN(10) = %v, want the 3 runs", got)
	}
}

// TestDailyAcrossDST checks a daily cron fires exactly once per local day
// for a whole year, whatever the wall time, in zones with DST at 02:00, at
// midnight and by 30 minutes.
func TestDailyAcrossDST(t *testing.T) {
	zones := []string{"Europe/Paris", "America/New_York", "America/Santiago", "Australia/Lord_Howe", "America/Havana", "Asia/Tehran"}
	clocks := []string{"0 0", "30 0", "0 1", "30 1", "0 2", "30 2", "59 2", "0 3", "15 12", "59 23"}
	for _, tz := range zones {
		for _, hm := range clocks {
			s := MustParse("cron("+hm+" * * ? *)", tz)
			loc := s.Location()
			start := time.Date(2025, 12, 31, 12, 0, 0, 0, loc)
			runs := s.NextN(start, 366)
			seen := map[string]bool{}
			for i, r := range runs {
				if i > 0 && !r.After(runs[i-1]) {
					t.Fatalf("%s %s: run %d %v not after %v", tz, hm, i, r, runs[i-1])
				}
				day := r.In(loc).Format("2006-01-02")
				if seen[day] {
					t.Errorf("%s %s: fired twice on %s", tz, hm, day)
				}
				seen[day] = true
			}
			for d := time.Date(2026, 1, 1, 12, 0, 0, 0, loc); d.Year() == 2026; d = d.AddDate(0, 0, 1) {
				if !seen[d.Format("2006-01-02")] {
					t.Errorf("%s cron(%s): skipped %s", tz, hm, d.Format("2006-01-02"))
				}
			}
		}
	}
}

// TestHourlyNeverRepeatsWallTime: an hourly schedule never fires twice at
// one wall time and fires every wall hour that exists.
func TestHourlyNeverRepeatsWallTime(t *testing.T) {
	for _, tz := range []string{"Europe/Paris", "America/New_York", "Australia/Lord_Howe"} {
		s := MustParse("cron(30 * * * ? *)", tz)
		runs := s.NextN(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 366*24)
		seen := map[string]bool{}
		for i, r := range runs {
			if i > 0 && !r.After(runs[i-1]) {
				t.Fatalf("%s: run %d %v not after %v", tz, i, r, runs[i-1])
			}
			w := r.In(s.Location()).Format("2006-01-02 15:04")
			if seen[w] {
				t.Errorf("%s: wall time %s fired twice", tz, w)
			}
			seen[w] = true
		}
		if n := len(seen); n < 365*24-2 {
			t.Errorf("%s: only %d distinct runs", tz, n)
		}
	}
}

func BenchmarkNext(b *testing.B) {
	after := time.Date(2026, 5, 17, 13, 45, 12, 0, time.UTC)
	for _, bc := range []struct{ name, expr, tz string }{
		{"daily-paris", "cron(0 5 * * ? *)", "Europe/Paris"},
		{"hourly-utc", "cron(0 * * * ? *)", ""},
		{"third-friday-ny", "cron(0 3 ? * 6#3 *)", "America/New_York"},
		{"leapday-2196", "cron(0 0 29 2 ? 2196-2199)", "Europe/Paris"},
		{"never-30-feb", "cron(0 0 30 2 ? *)", ""},
		{"rate-12h", "rate(12 hours)", "Europe/Paris"},
	} {
		s := MustParse(bc.expr, bc.tz)
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				s.Next(after)
			}
		})
	}
}
