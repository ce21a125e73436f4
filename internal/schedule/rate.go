package schedule

import (
	"fmt"
	"strconv"
	"strings"
)

// maxRateSeconds keeps intervals within time.Duration and the year range.
const maxRateSeconds = 100000 * 86400

var rateUnits = []struct {
	singular, plural string
	seconds          int64
}{{"minute", "minutes", 60}, {"hour", "hours", 3600}, {"day", "days", 86400}}

// parseRate parses "value unit" and returns the interval in seconds.
func parseRate(expr, body string) (int64, error) {
	f := strings.Fields(body)
	if len(f) != 2 {
		return 0, invalid(expr, "rate", fmt.Sprintf("%d fields, want 2 (value unit)", len(f)))
	}
	if !isDigits(f[0]) {
		return 0, invalid(expr, "rate value", fmt.Sprintf("%q is not a positive integer", f[0]))
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || n < 1 {
		return 0, invalid(expr, "rate value", fmt.Sprintf("%q is not a positive integer", f[0]))
	}
	for _, u := range rateUnits {
		switch {
		case f[1] == u.singular && n != 1:
			return 0, invalid(expr, "rate unit", fmt.Sprintf("value %d needs the plural %q", n, u.plural))
		case f[1] == u.plural && n == 1:
			return 0, invalid(expr, "rate unit", fmt.Sprintf("value 1 needs the singular %q", u.singular))
		case f[1] == u.singular || f[1] == u.plural:
			if n > maxRateSeconds/u.seconds {
				return 0, invalid(expr, "rate value", fmt.Sprintf("%d %s exceeds the limit of 100000 days", n, f[1]))
			}
			return n * u.seconds, nil
		}
	}
	return 0, invalid(expr, "rate unit", fmt.Sprintf("%q is not one of minute, minutes, hour, hours, day, days", f[1]))
}
