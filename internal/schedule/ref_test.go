package schedule

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// A naive, independent reading of the cron rules, checked day by day and
// minute by minute against Next in zones without daylight saving.

func refNum(s string, names []string) int {
	for i, n := range names {
		if strings.EqualFold(s, n) {
			return i + 1
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		panic("ref: bad number " + s)
	}
	return n
}

// refField reports whether v matches a list of *, a, a-b, with /step.
func refField(s string, v, lo, hi int, names []string) bool {
	for _, item := range strings.Split(s, ",") {
		body, step := item, 1
		if i := strings.Index(item, "/"); i >= 0 {
			body, step = item[:i], refNum(item[i+1:], nil)
		}
		a, b := lo, hi
		switch {
		case body == "*":
		case strings.Contains(body, "-"):
			i := strings.Index(body, "-")
			a, b = refNum(body[:i], names), refNum(body[i+1:], names)
		default:
			a = refNum(body, names)
			b = a
			if strings.Contains(item, "/") {
				b = hi
			}
		}
		// Walk the values the item denotes, wrapping after hi.
		for x, n := a, 0; n <= hi-lo; x, n = x+step, n+step {
			if b >= a && x > b || b < a && x > b+hi-lo+1 {
				break
			}
			if lo+(x-lo)%(hi-lo+1) == v {
				return true
			}
		}
	}
	return false
}

func isWeekday(t time.Time) bool { return t.Weekday() != time.Saturday && t.Weekday() != time.Sunday }

// refDay reports whether the local date of t matches day-of-month/day-of-week.
func refDay(dom, dow string, t time.Time) bool {
	day := func(d int) time.Time { return time.Date(t.Year(), t.Month(), d, 12, 0, 0, 0, time.UTC) }
	date := day(t.Day())
	inMonth := func(d time.Time) bool { return d.Month() == t.Month() }
	dowNum := int(t.Weekday()) + 1
	u := strings.ToUpper(dow)
	switch {
	case dom == "?" && u == "L":
		return t.Weekday() == time.Saturday
	case dom == "?" && strings.HasSuffix(u, "L"):
		return dowNum == refNum(dow[:len(dow)-1], dowNames) && !inMonth(date.AddDate(0, 0, 7))
	case dom == "?" && strings.Contains(dow, "#"):
		p := strings.Split(dow, "#")
		return dowNum == refNum(p[0], dowNames) && (t.Day()-1)/7+1 == refNum(p[1], nil)
	case dom == "?":
		return refField(dow, dowNum, 1, 7, dowNames)
	case strings.EqualFold(dom, "L"):
		return !inMonth(date.AddDate(0, 0, 1))
	case strings.EqualFold(dom, "LW"): // a weekday with no later weekday this month
		for d := date.AddDate(0, 0, 1); inMonth(d); d = d.AddDate(0, 0, 1) {
			if isWeekday(d) {
				return false
			}
		}
		return isWeekday(date)
	case strings.HasSuffix(strings.ToUpper(dom), "W"): // the weekday of this month nearest to day n
		n := refNum(dom[:len(dom)-1], nil)
		if !inMonth(day(n)) || day(n).Day() != n {
			return false
		}
		best := -1
		for d := day(1); inMonth(d); d = d.AddDate(0, 0, 1) {
			if isWeekday(d) && (best < 0 || abs(d.Day()-n) < abs(best-n)) {
				best = d.Day()
			}
		}
		return t.Day() == best
	}
	return refField(dom, t.Day(), 1, 31, nil)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// refRuns lists the runs in [from, to) in loc (a zone without DST), at most limit.
func refRuns(expr string, loc *time.Location, from, to time.Time, limit int) []time.Time {
	f := strings.Fields(strings.TrimSuffix(strings.TrimPrefix(expr, "cron("), ")"))
	var minOK [60]bool
	var hourOK [24]bool
	for i := range minOK {
		minOK[i] = refField(f[0], i, 0, 59, nil)
	}
	for i := range hourOK {
		hourOK[i] = refField(f[1], i, 0, 23, nil)
	}
	var out []time.Time
	for d := time.Date(from.In(loc).Year(), from.In(loc).Month(), from.In(loc).Day(), 0, 0, 0, 0, loc); d.Before(to); d = d.AddDate(0, 0, 1) {
		if !refField(f[3], int(d.Month()), 1, 12, monthNames) || !refField(f[5], d.Year(), 1970, 2199, nil) || !refDay(f[2], f[4], d) {
			continue
		}
		for h := 0; h < 24; h++ {
			for m := 0; m < 60; m++ {
				if t := time.Date(d.Year(), d.Month(), d.Day(), h, m, 0, 0, loc); hourOK[h] && minOK[m] && t.After(from) && t.Before(to) {
					if out = append(out, t); len(out) == limit {
						return out
					}
				}
			}
		}
	}
	return out
}

func TestNextMatchesReference(t *testing.T) {
	exprs := []string{
		"cron(0 * * * ? *)", "cron(*/15 * * * ? *)", "cron(5/20 1-3 * * ? *)", "cron(0 22-2 * * ? *)",
		"cron(7 23-1/2 * * ? *)", "cron(0 0 L * ? *)", "cron(0 0 LW * ? *)", "cron(30 4 15W * ? *)",
		"cron(0 0 1W * ? *)", "cron(0 0 31W * ? *)", "cron(0 0 30W * ? *)", "cron(0 12 ? * 6#3 *)",
		"cron(0 12 ? * 2#5 *)", "cron(0 12 ? * 5L *)", "cron(0 12 ? * SUNL *)", "cron(0 12 ? * L *)",
		"cron(0 0 ? * MON-FRI *)", "cron(0 0 ? * FRI-MON *)", "cron(10,20 5 1,15 JAN,JUL ? *)",
		"cron(0 0 31 * ? *)", "cron(0 0 29 2 ? *)", "cron(0 9 */5 * ? 2026-2027)", "cron(0 0 ? * 1/2 *)",
		"cron(59 23 28-3 * ? *)", "cron(0 0 1 */3 ? *)", "cron(0 0 ? * 7L 2027)", "cron(0 6 ? * 4#1 *)",
		"cron(45 3 ? NOV-FEB 1,3-4 *)", "cron(0 0 1-7 * ? 2026/2)", "cron(* 0 1 1 ? *)",
	}
	from := time.Date(2025, 12, 20, 13, 17, 42, 0, time.UTC)
	to := time.Date(2029, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, tz := range []string{"Etc/UTC", "Asia/Kolkata", "Etc/GMT+11"} {
		for _, expr := range exprs {
			s := MustParse(expr, tz)
			want := refRuns(expr, s.Location(), from, to, 3000)
			got := s.NextN(from, len(want)+1)
			if len(want) == 0 {
				t.Fatalf("%s: reference finds no runs", expr)
			}
			for i, w := range want {
				if i >= len(got) || !got[i].Equal(w) {
					t.Fatalf("%s in %s: run %d = %v, reference %v", expr, tz, i, at(got, i), w)
				}
			}
			if len(want) < 3000 && len(got) > len(want) && got[len(want)].Before(to) {
				t.Errorf("%s in %s: extra run %v", expr, tz, got[len(want)])
			}
		}
	}
}

func at(ts []time.Time, i int) any {
	if i < len(ts) {
		return ts[i]
	}
	return "none"
}
