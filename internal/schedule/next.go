package schedule

import "time"

// The search walks the calendar in the schedule's zone field by field (year,
// month, day, hour, minute), jumping with the field bitsets, and converts
// each matching wall time to an instant with resolve. Wall-to-instant
// conversion is non-decreasing (gaps map to the gap's end, repeated wall
// times to their first occurrence), so the first matching wall time at or
// after after's own wall time (truncated to the minute) whose instant is
// strictly after after is the answer.

// wallPos is a wall-clock position in the schedule's zone.
type wallPos struct{ y, mo, d, h, mi int }

func (c *cronSpec) next(after time.Time, loc *time.Location) time.Time {
	w := after.In(loc)
	y, mo, d := w.Date()
	p := wallPos{y, int(mo), d, w.Hour(), w.Minute()}
	if y < MinYear {
		p = wallPos{MinYear, 1, 1, 0, 0}
	}
	for {
		yi := c.years.next(p.y - MinYear)
		if yi < 0 {
			return time.Time{}
		}
		if MinYear+yi != p.y {
			p = wallPos{MinYear + yi, 1, 1, 0, 0}
		}
		if t, ok := c.nextInYear(p, after, loc); ok {
			return t
		}
		p = wallPos{p.y + 1, 1, 1, 0, 0}
	}
}

// nextInYear searches p's year from p on.
func (c *cronSpec) nextInYear(p wallPos, after time.Time, loc *time.Location) (time.Time, bool) {
	for m := c.months.next(p.mo - 1); m >= 0 && m < 12; m = c.months.next(m + 1) {
		if mo := m + 1; mo != p.mo {
			p = wallPos{p.y, mo, 1, 0, 0}
		}
		for d := c.nextDay(p.y, p.mo, p.d); d > 0; d = c.nextDay(p.y, p.mo, d+1) {
			h, mi := p.h, p.mi
			if d != p.d {
				h, mi = 0, 0
			}
			if t, ok := c.nextInDay(p.y, p.mo, d, h, mi, after, loc); ok {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// nextInDay searches one matching day from h:mi on.
func (c *cronSpec) nextInDay(y, mo, d, h0, mi0 int, after time.Time, loc *time.Location) (time.Time, bool) {
	for h := c.hours.next(h0); h >= 0 && h < 24; h = c.hours.next(h + 1) {
		m0 := 0
		if h == h0 {
			m0 = mi0
		}
		for m := c.minutes.next(m0); m >= 0 && m < 60; m = c.minutes.next(m + 1) {
			if t := resolve(y, mo, d, h, m, loc); t.After(after) {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// nextDay returns the first matching day of the month at or after from, or 0.
func (c *cronSpec) nextDay(y, mo, from int) int {
	last := daysIn(y, mo)
	if from > last {
		return 0
	}
	var d int
	if c.dow.kind == dayAny {
		d = c.dom.domDay(y, mo, from, last)
	} else {
		d = c.dow.dowDay(y, mo, from, last)
	}
	if d < from || d > last {
		return 0
	}
	return d
}

// domDay returns a day-of-month spec's first day >= from (or 0, or a day
// before from when the month's only match has passed).
func (s *daySpec) domDay(y, mo, from, last int) int {
	switch s.kind {
	case daySet:
		return s.set.next(from-1) + 1
	case dayLast:
		return last
	case dayLastWeekday:
		switch weekday(y, mo, last) {
		case time.Saturday:
			return last - 1
		case time.Sunday:
			return last - 2
		}
		return last
	case dayNearWeekday:
		d := s.n
		if d > last {
			return 0 // the month has no day n
		}
		switch weekday(y, mo, d) {
		case time.Saturday:
			if d == 1 {
				return 3 // never cross into the previous month
			}
			return d - 1
		case time.Sunday:
			if d == last {
				return d - 2 // never cross into the next month
			}
			return d + 1
		}
		return d
	}
	return 0
}

// dowDay is domDay for a day-of-week spec.
func (s *daySpec) dowDay(y, mo, from, last int) int {
	w1 := int(weekday(y, mo, 1))
	switch s.kind {
	case daySet:
		for d := from; d <= last; d++ {
			if s.set.has((w1 + d - 1) % 7) {
				return d
			}
		}
	case dayLastOf:
		wl := (w1 + last - 1) % 7
		return last - (wl-s.n+7)%7
	case dayNth:
		return 1 + (s.n-w1+7)%7 + 7*(s.k-1)
	}
	return 0
}

func weekday(y, mo, d int) time.Weekday {
	return time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC).Weekday()
}

func daysIn(y, mo int) int {
	switch mo {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// resolve converts a wall time in loc to an instant: the earliest instant
// showing that wall time (the first occurrence when clocks fall back) or,
// when clocks spring forward over it, the first instant after the gap.
// Unlike time.Date, it does not leave either choice unspecified.
func resolve(y, mo, d, h, mi int, loc *time.Location) time.Time {
	wall := time.Date(y, time.Month(mo), d, h, mi, 0, 0, time.UTC).Unix()
	if loc == time.UTC {
		return time.Unix(wall, 0).UTC()
	}
	// Every instant showing this wall time lies within span of it (UTC
	// offsets stay within ±26h); walk the zone periods across that window
	// in time order.
	const span = 30 * 3600
	t := time.Unix(wall-span, 0).In(loc)
	for {
		_, off := t.Zone()
		start, end := t.ZoneBounds()
		if cand := wall - int64(off); (start.IsZero() || cand >= start.Unix()) && (end.IsZero() || cand < end.Unix()) {
			return time.Unix(cand, 0).In(loc)
		}
		if end.IsZero() || end.Unix() > wall+span {
			break
		}
		_, noff := end.Zone()
		if tr := end.Unix(); tr+int64(off) <= wall && wall < tr+int64(noff) {
			return end // wall is skipped by this transition
		}
		t = end
	}
	return time.Date(y, time.Month(mo), d, h, mi, 0, 0, loc) // unreachable with sane zone data
}

// nextRate returns anchor + k*interval for the least k >= 1 after after.
func (s *Schedule) nextRate(after time.Time) time.Time {
	if after.Year() > MaxYear+1 {
		return time.Time{}
	}
	a := s.anchor
	k := int64(1)
	if !after.Before(a) {
		ds := after.Unix() - a.Unix()
		if after.Nanosecond() < a.Nanosecond() {
			ds--
		}
		k = ds/s.every + 1
	}
	t := time.Unix(a.Unix()+k*s.every, int64(a.Nanosecond())).In(s.loc)
	if t.Year() > MaxYear {
		return time.Time{}
	}
	return t
}
