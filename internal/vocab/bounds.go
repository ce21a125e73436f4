package vocab

import (
	"fmt"
	"math"
	"time"
)

// Bounds of every duration a request may carry, as AWS Backup documents
// them (service/backup v1.69.7: retention "has a maximum value of 100
// years (36,500 days)", windows "a maximum value of 100 years (52,560,000
// minutes)", "at least 60 minutes"; cold storage for at least 90 days).
// coffer's own rules are marked. The catalog stores times as int64
// nanoseconds (until year 2262), so these maxima also keep every
// computed time storable.
const (
	MinDeleteAfterDays = 1
	MaxDeleteAfterDays = 36_500 // 100 years
	// MoveToColdStorageAfterDays: coffer stores and validates it (AWS
	// bounds), it has no cold tier.
	MinColdStorageAfterDays = 1
	MaxColdStorageAfterDays = MaxDeleteAfterDays
	// MinColdToDeleteDays: a recovery point stays in cold storage at least
	// 90 days before it is deleted.
	MinColdToDeleteDays = 90

	MinWindowMinutes = 60
	MaxWindowMinutes = 52_560_000 // 100 years
	// DefaultStartWindowMinutes is AWS's default start window (8 hours).
	DefaultStartWindowMinutes = 480
	// DefaultCompletionWindowMinutes is the completion window of a plan
	// rule that sets none (7 days, what the AWS console proposes);
	// StartBackupJob without one has no completion window.
	DefaultCompletionWindowMinutes = 10_080
	// MinCompletionAfterStartMinutes: a plan rule's completion window
	// ends at least an hour after its start window.
	MinCompletionAfterStartMinutes = 60
)

// ValidateDeleteAfterDays checks a Lifecycle.DeleteAfterDays that was
// given (callers pass only values the request holds).
func ValidateDeleteAfterDays(days int64) error {
	return inRange("Lifecycle.DeleteAfterDays", days, MinDeleteAfterDays, MaxDeleteAfterDays, "days")
}

// ValidateLifecycle checks a lifecycle; nil pointers are absent fields.
func ValidateLifecycle(deleteAfterDays, coldAfterDays *int64) error {
	if deleteAfterDays != nil {
		if err := ValidateDeleteAfterDays(*deleteAfterDays); err != nil {
			return err
		}
	}
	if coldAfterDays == nil {
		return nil
	}
	cold := *coldAfterDays
	if err := inRange("Lifecycle.MoveToColdStorageAfterDays", cold, MinColdStorageAfterDays, MaxColdStorageAfterDays, "days"); err != nil {
		return err
	}
	if deleteAfterDays != nil && *deleteAfterDays-cold < MinColdToDeleteDays {
		return fmt.Errorf("%w: Lifecycle.DeleteAfterDays (%d) must be at least %d days after MoveToColdStorageAfterDays (%d)",
			ErrInvalidParameter, *deleteAfterDays, MinColdToDeleteDays, cold)
	}
	return nil
}

// ValidateStartWindow checks a StartWindowMinutes that was given.
func ValidateStartWindow(minutes int64) error {
	return inRange("StartWindowMinutes", minutes, MinWindowMinutes, MaxWindowMinutes, "minutes")
}

// ValidateCompleteWindow checks a completion window that was given (field
// names it: CompleteWindowMinutes at StartBackupJob,
// CompletionWindowMinutes in plan rules).
func ValidateCompleteWindow(field string, minutes int64) error {
	return inRange(field, minutes, MinWindowMinutes, MaxWindowMinutes, "minutes")
}

// ValidateJobDurations checks StartBackupJob's durations, where 0 means
// not given (no retention, the default start window, no completion
// window).
func ValidateJobDurations(deleteAfterDays, startWindowMinutes, completeWindowMinutes int64) error {
	if deleteAfterDays != 0 {
		if err := ValidateDeleteAfterDays(deleteAfterDays); err != nil {
			return err
		}
	}
	if startWindowMinutes != 0 {
		if err := ValidateStartWindow(startWindowMinutes); err != nil {
			return err
		}
	}
	if completeWindowMinutes != 0 {
		return ValidateCompleteWindow("CompleteWindowMinutes", completeWindowMinutes)
	}
	return nil
}

func inRange(field string, v, lo, hi int64, unit string) error {
	if v < lo || v > hi {
		return fmt.Errorf("%w: %s must be from %d to %d %s, not %d", ErrInvalidParameter, field, lo, hi, unit, v)
	}
	return nil
}

// MaxTime is the latest time the catalog can store (int64 nanoseconds).
var MaxTime = time.Unix(0, math.MaxInt64).UTC()

// AddDays is t plus days whole days of 24 hours (a retention's DeleteAt),
// saturating at MaxTime: a count too large for time.Duration never wraps
// into the past. A negative count is treated as zero.
func AddDays(t time.Time, days int64) time.Time { return addSaturating(t, days, 24*time.Hour) }

// AddMinutes is t plus minutes (a window's end), saturating like AddDays.
func AddMinutes(t time.Time, minutes int64) time.Time { return addSaturating(t, minutes, time.Minute) }

func addSaturating(t time.Time, n int64, unit time.Duration) time.Time {
	if n <= 0 {
		return t
	}
	// MaxTime.Sub saturates too, so the quotient is the largest count that
	// fits both time.Duration and the catalog (for a t more than 292 years
	// before MaxTime it is smaller than that: such a t is no request time).
	if !t.Before(MaxTime) || n > int64(MaxTime.Sub(t)/unit) {
		return MaxTime
	}
	return t.Add(time.Duration(n) * unit)
}
