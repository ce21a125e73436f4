package schedule

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// bitset holds field values as bit value-min (256 bits cover the years).
type bitset [4]uint64

func (b *bitset) set(i int)      { b[i>>6] |= 1 << uint(i&63) }
func (b *bitset) has(i int) bool { return i >= 0 && i < 256 && b[i>>6]&(1<<uint(i&63)) != 0 }

// next returns the smallest set index >= i, or -1.
func (b *bitset) next(i int) int {
	if i < 0 {
		i = 0
	}
	for w := i >> 6; w < len(b); w++ {
		word := b[w]
		if w == i>>6 {
			word &= ^uint64(0) << uint(i&63)
		}
		if word != 0 {
			return w<<6 + bits.TrailingZeros64(word)
		}
	}
	return -1
}

func (b *bitset) count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

// dayKind says how day-of-month or day-of-week selects days.
type dayKind uint8

const (
	dayAny         dayKind = iota // ?
	daySet                        // values in set
	dayLast                       // day-of-month L
	dayLastWeekday                // day-of-month LW
	dayNearWeekday                // day-of-month nW: n
	dayLastOf                     // day-of-week dL: weekday d (0 = Sunday)
	dayNth                        // day-of-week d#k: weekday d, k
)

type daySpec struct {
	kind dayKind
	set  bitset // daySet: index day-1 (day-of-month) or weekday 0-6
	n, k int
}

type cronSpec struct {
	minutes, hours, months, years bitset
	dom, dow                      daySpec
}

// fieldDef describes one cron field.
type fieldDef struct {
	name     string
	min, max int
	names    []string // names[i] is value min+i
	cyclic   bool     // ranges may wrap around
}

var (
	monthNames = []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}
	dowNames   = []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}

	fMinutes = fieldDef{name: "minutes", min: 0, max: 59, cyclic: true}
	fHours   = fieldDef{name: "hours", min: 0, max: 23, cyclic: true}
	fDOM     = fieldDef{name: "day-of-month", min: 1, max: 31, cyclic: true}
	fMonth   = fieldDef{name: "month", min: 1, max: 12, names: monthNames, cyclic: true}
	fDOW     = fieldDef{name: "day-of-week", min: 1, max: 7, names: dowNames, cyclic: true}
	fYear    = fieldDef{name: "year", min: MinYear, max: MaxYear}
)

// fieldError is a field's complaint before the expression is known.
type fieldError struct{ field, reason string }

func (e *fieldError) Error() string { return e.field + ": " + e.reason }

func ferr(f *fieldDef, format string, args ...any) error {
	return &fieldError{field: "cron " + f.name, reason: fmt.Sprintf(format, args...)}
}

func parseCron(expr, body string) (*cronSpec, error) {
	c, err := parseCronFields(body)
	if err != nil {
		var fe *fieldError
		if errors.As(err, &fe) {
			return nil, invalid(expr, fe.field, fe.reason)
		}
		return nil, err
	}
	return c, nil
}

func parseCronFields(body string) (*cronSpec, error) {
	f := strings.Fields(body)
	if len(f) != 6 {
		return nil, &fieldError{"cron", fmt.Sprintf("%d fields, want 6 (minutes hours day-of-month month day-of-week year)", len(f))}
	}
	c := &cronSpec{}
	var err error
	for _, p := range []struct {
		def *fieldDef
		s   string
		dst *bitset
	}{{&fMinutes, f[0], &c.minutes}, {&fHours, f[1], &c.hours}, {&fMonth, f[3], &c.months}, {&fYear, f[5], &c.years}} {
		if *p.dst, err = p.def.parseList(p.s); err != nil {
			return nil, err
		}
	}
	if c.dom, err = parseDOM(f[2]); err != nil {
		return nil, err
	}
	if c.dow, err = parseDOW(f[4]); err != nil {
		return nil, err
	}
	switch {
	case c.dom.kind == dayAny && c.dow.kind == dayAny:
		return nil, ferr(&fDOM, "both day-of-month and day-of-week are ?; exactly one must be ?")
	case c.dom.kind != dayAny && c.dow.kind != dayAny:
		return nil, ferr(&fDOW, "both day-of-month and day-of-week are set; one must be ?")
	}
	return c, nil
}

// parseList parses a list of *, values, ranges and increments.
func (f *fieldDef) parseList(s string) (bitset, error) {
	var b bitset
	if s == "?" {
		return b, ferr(f, "? is only allowed in day-of-month or day-of-week")
	}
	for _, item := range strings.Split(s, ",") {
		if err := f.parseItem(item, &b); err != nil {
			return b, err
		}
	}
	return b, nil
}

func (f *fieldDef) parseItem(item string, b *bitset) error {
	if item == "" {
		return ferr(f, "empty list item")
	}
	body, stepStr, hasStep := strings.Cut(item, "/")
	width := f.max - f.min + 1
	step := 1
	if hasStep {
		n, err := strconv.Atoi(stepStr)
		if err != nil || !isDigits(stepStr) {
			return ferr(f, "increment %q in %q is not a number", stepStr, item)
		}
		if n < 1 || n > width {
			return ferr(f, "increment %d in %q out of range 1-%d", n, item, width)
		}
		step = n
	}
	var lo, hi int
	var err error
	if body == "*" {
		lo, hi = f.min, f.max
	} else if a, z, isRange := strings.Cut(body, "-"); isRange {
		if lo, err = f.value(a, item); err != nil {
			return err
		}
		if hi, err = f.value(z, item); err != nil {
			return err
		}
		if hi < lo {
			if !f.cyclic {
				return ferr(f, "range %q runs backwards", item)
			}
			hi += width // wraps around, as in Quartz
		}
	} else {
		if lo, err = f.value(body, item); err != nil {
			return err
		}
		hi = lo
		if hasStep {
			hi = f.max
		}
	}
	for v := lo; v <= hi; v += step {
		b.set((v - f.min) % width)
	}
	return nil
}

// value parses one number or name of the field.
func (f *fieldDef) value(s, item string) (int, error) {
	if isDigits(s) {
		n, err := strconv.Atoi(s)
		if err != nil || n < f.min || n > f.max {
			return 0, ferr(f, "value %s in %q out of range %d-%d", s, item, f.min, f.max)
		}
		return n, nil
	}
	for i, name := range f.names {
		if strings.EqualFold(s, name) {
			return f.min + i, nil
		}
	}
	if s == "" {
		return 0, ferr(f, "missing value in %q", item)
	}
	if f.names != nil {
		return 0, ferr(f, "invalid value %q in %q: want %d-%d or %s-%s", s, item, f.min, f.max, f.names[0], f.names[len(f.names)-1])
	}
	return 0, ferr(f, "invalid value %q in %q: want %d-%d", s, item, f.min, f.max)
}

func isDigits(s string) bool {
	if s == "" || len(s) > 9 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func parseDOM(s string) (daySpec, error) {
	f := &fDOM
	u := strings.ToUpper(s)
	switch {
	case s == "?":
		return daySpec{kind: dayAny}, nil
	case u == "L":
		return daySpec{kind: dayLast}, nil
	case u == "LW":
		return daySpec{kind: dayLastWeekday}, nil
	case !strings.ContainsAny(u, "LW"):
		set, err := f.parseList(s)
		return daySpec{kind: daySet, set: set}, err
	case strings.ContainsAny(s, ",-/*?"):
		return daySpec{}, ferr(f, "%q: L and W must stand alone (L, LW or nW), not in lists, ranges or increments", s)
	case strings.HasSuffix(u, "W") && isDigits(s[:len(s)-1]):
		n, err := f.value(s[:len(s)-1], s)
		return daySpec{kind: dayNearWeekday, n: n}, err
	}
	return daySpec{}, ferr(f, "invalid value %q: want L, LW, nW (n 1-31) or values 1-31", s)
}

func parseDOW(s string) (daySpec, error) {
	f := &fDOW
	u := strings.ToUpper(s)
	switch {
	case s == "?":
		return daySpec{kind: dayAny}, nil
	case u == "L": // last day of the week: Saturday
		var set bitset
		set.set(6)
		return daySpec{kind: daySet, set: set}, nil
	case !strings.ContainsAny(u, "L#"):
		set, err := f.parseList(s)
		if err != nil {
			return daySpec{}, err
		}
		return daySpec{kind: daySet, set: set}, nil
	case strings.ContainsAny(s, ",-/*?"):
		return daySpec{}, ferr(f, "%q: L and # must stand alone (L, dL or d#k), not in lists, ranges or increments", s)
	case strings.HasSuffix(u, "L"):
		d, err := f.value(s[:len(s)-1], s)
		return daySpec{kind: dayLastOf, n: d - 1}, err
	}
	ds, ks, ok := strings.Cut(s, "#")
	if !ok || strings.Contains(u, "L") {
		return daySpec{}, ferr(f, "invalid value %q: want L, dL, d#k or values 1-7/SUN-SAT", s)
	}
	d, err := f.value(ds, s)
	if err != nil {
		return daySpec{}, err
	}
	k, err := strconv.Atoi(ks)
	if err != nil || !isDigits(ks) || k < 1 || k > 5 {
		return daySpec{}, ferr(f, "%q: occurrence after # must be 1-5", s)
	}
	return daySpec{kind: dayNth, n: d - 1, k: k}, nil
}
