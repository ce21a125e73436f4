package jobs

import (
	"encoding/json"
	"fmt"
	"time"
)

// What every kind's job records alike: progress, statistics, and the
// note on a job a live process took over.

// Percent is a job's PercentDone: done of total, never 100 before the end.
func Percent(done, total int64) string {
	if total <= 0 {
		return "0.0"
	}
	p := float64(done) * 100 / float64(total)
	if p > 99 {
		p = 99
	}
	return fmt.Sprintf("%.1f", p)
}

// JSON is v as the JSON a job's Stats column holds ("{}" if it cannot be
// encoded: statistics never fail a job).
func JSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// WindowPassed reports whether a completion window ending at end (zero:
// none) has passed at now.
func WindowPassed(end, now time.Time) bool { return !end.IsZero() && !now.Before(end) }

// RunNote starts the final message of a job that a live process took over
// after the process running it died.
func RunNote(run int) string {
	if run == 0 {
		return ""
	}
	return fmt.Sprintf("run %d, taken over after the process running the job stopped: ", run+1)
}

// MaintenanceWaitNote is the StatusMessage of a job waiting for the
// maintenance of its vault.
func MaintenanceWaitNote(vault string) string {
	return fmt.Sprintf("waiting for maintenance of backup vault %q to finish", vault)
}
