package schedule

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// parseErrorCases: invalid expressions and substrings of their message
// (field, then reason).
var parseErrorCases = []struct {
	expr, tz string
	want     []string
}{
	{"", "", []string{"expression", "empty"}},
	{"0 5 * * ? *", "", []string{"expression", "must be cron"}},
	{"cron(0 5 * * ?)", "", []string{"cron:", "5 fields, want 6"}},
	{"cron(0 5 * * ? * *)", "", []string{"cron:", "7 fields"}},
	{"CRON(0 5 * * ? *)", "", []string{"expression"}},
	// minutes
	{"cron(60 5 * * ? *)", "", []string{"cron minutes", "60", "out of range 0-59"}},
	{"cron(x 5 * * ? *)", "", []string{"cron minutes", `invalid value "x"`}},
	{"cron(-1 5 * * ? *)", "", []string{"cron minutes", "missing value"}},
	{"cron(1,,2 5 * * ? *)", "", []string{"cron minutes", "empty list item"}},
	{"cron(*/0 5 * * ? *)", "", []string{"cron minutes", "increment 0", "1-60"}},
	{"cron(*/61 5 * * ? *)", "", []string{"cron minutes", "increment 61"}},
	{"cron(*/x 5 * * ? *)", "", []string{"cron minutes", "not a number"}},
	{"cron(? 5 * * ? *)", "", []string{"cron minutes", "? is only allowed"}},
	{"cron(L 5 * * ? *)", "", []string{"cron minutes", `invalid value "L"`}},
	// hours
	{"cron(0 24 * * ? *)", "", []string{"cron hours", "24", "0-23"}},
	{"cron(0 1-2-3 * * ? *)", "", []string{"cron hours", `"2-3"`}},
	{"cron(0 ? * * ? *)", "", []string{"cron hours", "?"}},
	// day-of-month
	{"cron(0 5 0 * ? *)", "", []string{"cron day-of-month", "0", "1-31"}},
	{"cron(0 5 32 * ? *)", "", []string{"cron day-of-month", "32"}},
	{"cron(0 5 MON * ? *)", "", []string{"cron day-of-month", `invalid value "MON"`}},
	{"cron(0 5 L-3 * ? *)", "", []string{"cron day-of-month", "must stand alone"}},
	{"cron(0 5 1,L * ? *)", "", []string{"cron day-of-month", "must stand alone"}},
	{"cron(0 5 1-15W * ? *)", "", []string{"cron day-of-month", "must stand alone"}},
	{"cron(0 5 W * ? *)", "", []string{"cron day-of-month", "want L, LW, nW"}},
	{"cron(0 5 32W * ? *)", "", []string{"cron day-of-month", "32"}},
	{"cron(0 5 WL * ? *)", "", []string{"cron day-of-month", "want L, LW, nW"}},
	{"cron(0 5 ?,1 * ? *)", "", []string{"cron day-of-month", `invalid value "?"`}},
	// month
	{"cron(0 5 1 13 ? *)", "", []string{"cron month", "13", "1-12"}},
	{"cron(0 5 1 0 ? *)", "", []string{"cron month", "0"}},
	{"cron(0 5 1 JANUARY ? *)", "", []string{"cron month", "JAN-DEC"}},
	{"cron(0 5 1 */13 ? *)", "", []string{"cron month", "increment 13"}},
	{"cron(0 5 1 ? * *)", "", []string{"cron month", "?"}},
	// day-of-week
	{"cron(0 5 ? * 0 *)", "", []string{"cron day-of-week", "0", "1-7"}},
	{"cron(0 5 ? * 8 *)", "", []string{"cron day-of-week", "8"}},
	{"cron(0 5 ? * SUNDAY *)", "", []string{"cron day-of-week", "SUN-SAT"}},
	{"cron(0 5 ? * 3#0 *)", "", []string{"cron day-of-week", "1-5"}},
	{"cron(0 5 ? * 3#6 *)", "", []string{"cron day-of-week", "1-5"}},
	{"cron(0 5 ? * 8#1 *)", "", []string{"cron day-of-week", "8"}},
	{"cron(0 5 ? * 3#1,6#3 *)", "", []string{"cron day-of-week", "must stand alone"}},
	{"cron(0 5 ? * 1,5L *)", "", []string{"cron day-of-week", "must stand alone"}},
	{"cron(0 5 ? * 8L *)", "", []string{"cron day-of-week", "8"}},
	{"cron(0 5 ? * LW *)", "", []string{"cron day-of-week", "LW"}},
	{"cron(0 5 ? * 3#L *)", "", []string{"cron day-of-week", `invalid value "3#"`}},
	{"cron(0 5 ? * 3#2#1 *)", "", []string{"cron day-of-week", "occurrence after # must be 1-5"}},
	{"cron(0 5 ? * #2 *)", "", []string{"cron day-of-week", "missing value"}},
	{"cron(0 5 ? * 2W *)", "", []string{"cron day-of-week", `invalid value "2W"`}},
	// ? rules
	{"cron(0 5 * * * *)", "", []string{"cron day-of-week", "both day-of-month and day-of-week are set; one must be ?"}},
	{"cron(0 5 1 * MON *)", "", []string{"cron day-of-week", "both day-of-month and day-of-week are set"}},
	{"cron(0 5 L * 6#3 *)", "", []string{"cron day-of-week", "both"}},
	{"cron(0 5 ? * ? *)", "", []string{"cron day-of-month", "both day-of-month and day-of-week are ?"}},
	// year
	{"cron(0 5 1 * ? 1969)", "", []string{"cron year", "1969", "1970-2199"}},
	{"cron(0 5 1 * ? 2200)", "", []string{"cron year", "2200"}},
	{"cron(0 5 1 * ? 2030-2026)", "", []string{"cron year", "backwards"}},
	{"cron(0 5 1 * ? ?)", "", []string{"cron year", "?"}},
	// rate
	{"rate(1 hours)", "", []string{"rate unit", `singular "hour"`}},
	{"rate(2 hour)", "", []string{"rate unit", `plural "hours"`}},
	{"rate(1 minutes)", "", []string{"rate unit", `singular "minute"`}},
	{"rate(5 day)", "", []string{"rate unit", `plural "days"`}},
	{"rate(2 weeks)", "", []string{"rate unit", `"weeks" is not one of`}},
	{"rate(2 Hours)", "", []string{"rate unit", `"Hours"`}},
	{"rate(0 hours)", "", []string{"rate value", `"0" is not a positive integer`}},
	{"rate(-1 hour)", "", []string{"rate value", `"-1"`}},
	{"rate(1.5 hours)", "", []string{"rate value", `"1.5"`}},
	{"rate(hour)", "", []string{"rate:", "1 fields, want 2"}},
	{"rate(1 hour 2)", "", []string{"rate:", "3 fields"}},
	{"rate(100001 days)", "", []string{"rate value", "limit"}},
}

func TestParseErrors(t *testing.T) {
	for _, tt := range parseErrorCases {
		t.Run(tt.expr, func(t *testing.T) {
			s, err := Parse(tt.expr, tt.tz)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want error", tt.expr, s)
			}
			if !errors.Is(err, ErrInvalidExpression) {
				t.Errorf("error %v does not wrap ErrInvalidExpression", err)
			}
			var e *Error
			if !errors.As(err, &e) || e.Input != strings.TrimSpace(tt.expr) {
				t.Errorf("error %#v is not an *Error about %q", err, tt.expr)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestParseTimezone(t *testing.T) {
	for _, tz := range []string{"Mars/Olympus_Mons", "Local", "../etc/passwd", "europe/paris"} {
		_, err := Parse("cron(0 5 * * ? *)", tz)
		if !errors.Is(err, ErrUnknownTimezone) || errors.Is(err, ErrInvalidExpression) || !strings.Contains(err.Error(), tz) {
			t.Errorf("Parse with zone %q: error %v, want ErrUnknownTimezone naming the zone", tz, err)
		}
	}
	s, err := Parse("cron(0 5 * * ? *)", "")
	if err != nil || s.Location().String() != "Etc/UTC" {
		t.Fatalf("default zone: %v, %v", s, err)
	}
	s, err = Parse(" cron(0 5 * * ? *) ", "America/New_York")
	if err != nil || s.Location().String() != "America/New_York" || s.String() != "cron(0 5 * * ? *)" {
		t.Fatalf("New York: %v, %v", s, err)
	}
	if _, err := Parse("rate(1 hour)", "", time.Time{}, time.Time{}); err == nil {
		t.Error("two anchors accepted")
	}
	if _, err := Parse("rate(1 hour)", "", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)); err == nil {
		t.Error("anchor in year 10000 accepted")
	}
}

func TestParseValid(t *testing.T) {
	for _, expr := range []string{
		"cron(0 5 * * ? *)", "cron(0 5 ? * * *)", "cron(0/15 * * * ? *)", "cron(5,35 14 * * ? *)",
		"cron(0 8 1 * ? *)", "cron(0 18 ? * MON-FRI *)", "cron(0 18 ? * mon-fri *)", "cron(0 0 1 jan,Jul ? *)",
		"cron(0 0 L * ? *)", "cron(0 0 lw * ? *)", "cron(0 0 15W * ? *)", "cron(0 0 ? * L *)",
		"cron(0 0 ? * 5L *)", "cron(0 0 ? * THUL *)", "cron(0 0 ? * 6#3 *)", "cron(0 0 ? * FRI#3 *)",
		"cron(0 0 ? * 1/2 *)", "cron(0 22-2 * * ? *)", "cron(0 0 28-3 * ? *)", "cron(0 0 1 11-2 ? *)",
		"cron(0 0 1 1 ? 1970-2199)", "cron(0 0 1 1 ? 2026/3)", "cron(  0   5 * * ?  * )", "cron(0 0 1 */3 ? *)",
		"rate(1 minute)", "rate(5 minutes)", "rate(1 hour)", "rate(12 hours)", "rate(1 day)", "rate(7 days)",
		"rate(100000 days)", "rate(  2   hours )",
	} {
		if s, err := Parse(expr, "Europe/Paris"); err != nil {
			t.Errorf("Parse(%q): %v", expr, err)
		} else if s.String() != expr {
			t.Errorf("String() = %q, want %q", s.String(), expr)
		}
	}
}

func TestValidateBackupFrequency(t *testing.T) {
	tests := []struct {
		expr string
		want string // "" = accepted; else substring; "!" prefix = parse error
	}{
		{"rate(1 hour)", ""},
		{"rate(60 minutes)", ""},
		{"rate(90 minutes)", ""},
		{"rate(1 day)", ""},
		{"cron(0 * * * ? *)", ""},
		{"cron(0/60 * * * ? *)", ""},
		{"cron(30 */2 * * ? *)", ""},
		{"rate(59 minutes)", "rate: runs every 59m0s"},
		{"rate(1 minute)", "rate: runs every 1m0s"},
		{"cron(*/15 * * * ? *)", "cron minutes: fires 4 times an hour"},
		{"cron(0,30 5 * * ? *)", "cron minutes: fires 2 times an hour"},
		{"cron(* 5 * * ? *)", "cron minutes: fires 60 times an hour"},
		{"cron(0-1 5 * * ? *)", "cron minutes: fires 2 times"},
		{"rate(1 hours)", "!rate unit"},
	}
	for _, tt := range tests {
		err := ValidateBackupFrequency(tt.expr)
		switch {
		case tt.want == "":
			if err != nil {
				t.Errorf("%s: %v", tt.expr, err)
			}
		case strings.HasPrefix(tt.want, "!"):
			if !errors.Is(err, ErrInvalidExpression) || !strings.Contains(fmtErr(err), tt.want[1:]) {
				t.Errorf("%s: %v, want parse error %q", tt.expr, err, tt.want[1:])
			}
		default:
			if !errors.Is(err, ErrTooFrequent) || !strings.Contains(fmtErr(err), tt.want) || !strings.Contains(fmtErr(err), "once an hour") {
				t.Errorf("%s: %v, want ErrTooFrequent %q", tt.expr, err, tt.want)
			}
		}
	}
}

func fmtErr(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
