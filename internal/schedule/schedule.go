package schedule

import (
	"errors"
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // zone rules even on hosts without /usr/share/zoneinfo
)

// Sentinel errors; every error returned by this package wraps one of them.
var (
	// ErrInvalidExpression: the expression is not a valid cron() or rate().
	ErrInvalidExpression = errors.New("invalid schedule expression")
	// ErrUnknownTimezone: the time zone is not an IANA zone name.
	ErrUnknownTimezone = errors.New("unknown schedule time zone")
	// ErrTooFrequent: the schedule runs more than once an hour, which
	// AWS Backup refuses for backup rules.
	ErrTooFrequent = errors.New("schedule too frequent for a backup rule")
)

// DefaultTimezone is the zone of a schedule given no ScheduleExpressionTimezone.
const DefaultTimezone = "Etc/UTC"

// Year range of cron expressions, which also bounds every search.
const (
	MinYear = 1970
	MaxYear = 2199
)

// Error describes what is wrong with an expression or time zone.
type Error struct {
	Input  string // the expression or time zone name
	Field  string // e.g. "cron day-of-week", "rate unit", "timezone"
	Reason string
	Err    error // ErrInvalidExpression, ErrUnknownTimezone or ErrTooFrequent
}

func (e *Error) Error() string {
	return fmt.Sprintf("%v %q: %s: %s", e.Err, e.Input, e.Field, e.Reason)
}

// Unwrap returns the sentinel.
func (e *Error) Unwrap() error { return e.Err }

// Schedule is a parsed schedule expression bound to a time zone.
// It is immutable and safe for concurrent use.
type Schedule struct {
	expr   string
	loc    *time.Location
	cron   *cronSpec // nil for rate()
	every  int64     // rate interval in seconds
	anchor time.Time // rate anchor
}

// Parse parses a cron() or rate() expression evaluated in the IANA zone tz
// ("" means Etc/UTC). anchor optionally anchors a rate() schedule (see the
// package documentation); a zero anchor means the default, the Unix epoch.
// Cron schedules ignore it. At most one anchor may be given.
func Parse(expr, tz string, anchor ...time.Time) (*Schedule, error) {
	if len(anchor) > 1 {
		return nil, fmt.Errorf("schedule.Parse: %d anchors given, at most one allowed", len(anchor))
	}
	loc, err := loadZone(tz)
	if err != nil {
		return nil, err
	}
	s := &Schedule{expr: strings.TrimSpace(expr), loc: loc, anchor: time.Unix(0, 0).UTC()}
	if len(anchor) == 1 && !anchor[0].IsZero() {
		if s.anchor, err = checkAnchor(anchor[0]); err != nil {
			return nil, err
		}
	}
	switch {
	case s.expr == "":
		return nil, invalid(s.expr, "expression", "empty; want cron(...) or rate(...)")
	case strings.HasPrefix(s.expr, "cron(") && strings.HasSuffix(s.expr, ")"):
		s.cron, err = parseCron(s.expr, s.expr[len("cron("):len(s.expr)-1])
	case strings.HasPrefix(s.expr, "rate(") && strings.HasSuffix(s.expr, ")"):
		s.every, err = parseRate(s.expr, s.expr[len("rate("):len(s.expr)-1])
	default:
		return nil, invalid(s.expr, "expression", "must be cron(minutes hours day-of-month month day-of-week year) or rate(value unit)")
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// MustParse is Parse for expressions known to be valid; it panics on error.
func MustParse(expr, tz string) *Schedule {
	s, err := Parse(expr, tz)
	if err != nil {
		panic(err)
	}
	return s
}

func loadZone(tz string) (*time.Location, error) {
	if tz == "" {
		tz = DefaultTimezone
	}
	zerr := func(reason string) error {
		return &Error{Input: tz, Field: "timezone", Reason: reason, Err: ErrUnknownTimezone}
	}
	if tz == "Local" {
		return nil, zerr("the host's local zone is not allowed; give an IANA name such as Europe/Paris")
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, zerr("not an IANA time zone name such as Europe/Paris or Etc/UTC")
	}
	return loc, nil
}

func checkAnchor(t time.Time) (time.Time, error) {
	if y := t.Year(); y < 1 || y > 9999 {
		return time.Time{}, fmt.Errorf("schedule: rate anchor %v outside years 1-9999", t)
	}
	return t, nil
}

// String returns the expression as parsed (surrounding blanks removed).
func (s *Schedule) String() string { return s.expr }

// Location returns the zone the schedule is evaluated in.
func (s *Schedule) Location() *time.Location { return s.loc }

// IsRate reports whether s is a rate() schedule.
func (s *Schedule) IsRate() bool { return s.cron == nil }

// Interval returns a rate() schedule's interval, 0 for cron().
func (s *Schedule) Interval() time.Duration { return time.Duration(s.every) * time.Second }

// Anchor returns the anchor of a rate() schedule.
func (s *Schedule) Anchor() time.Time { return s.anchor }

// Next returns the first run strictly after after, in the schedule's zone,
// or the zero time if there is none up to the end of MaxYear.
func (s *Schedule) Next(after time.Time) time.Time {
	if s.cron == nil {
		return s.nextRate(after)
	}
	return s.cron.next(after, s.loc)
}

// NextN returns up to n successive runs after after (fewer if the schedule
// ends).
func (s *Schedule) NextN(after time.Time, n int) []time.Time {
	var out []time.Time
	for ; n > 0; n-- {
		t := s.Next(after)
		if t.IsZero() {
			break
		}
		out = append(out, t)
		after = t
	}
	return out
}

// ValidateBackupFrequency parses expr and refuses it if it can run more
// than once an hour: rate intervals under an hour and cron minute fields
// naming more than one minute (*/15, 0,30, *). Parse errors are returned
// as they are.
func ValidateBackupFrequency(expr string) error {
	s, err := Parse(expr, "")
	if err != nil {
		return err
	}
	return s.validateBackupFrequency()
}

func (s *Schedule) validateBackupFrequency() error {
	tooFrequent := func(field, reason string) error {
		return &Error{Input: s.expr, Field: field, Reason: reason + "; backup rules run at most once an hour", Err: ErrTooFrequent}
	}
	if s.cron == nil {
		if s.every < 3600 {
			return tooFrequent("rate", fmt.Sprintf("runs every %v", s.Interval()))
		}
		return nil
	}
	if n := s.cron.minutes.count(); n > 1 {
		return tooFrequent("cron minutes", fmt.Sprintf("fires %d times an hour", n))
	}
	return nil
}

func invalid(expr, field, reason string) error {
	return &Error{Input: expr, Field: field, Reason: reason, Err: ErrInvalidExpression}
}
