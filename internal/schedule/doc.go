// Package schedule parses, validates and evaluates the schedule expressions
// of AWS Backup plan rules (ScheduleExpression and
// ScheduleExpressionTimezone), which use the EventBridge syntax:
//
//	cron(minutes hours day-of-month month day-of-week year)
//	rate(value unit)
//
// # cron
//
// Fields and ranges: minutes 0-59, hours 0-23, day-of-month 1-31, month 1-12
// or JAN-DEC, day-of-week 1-7 (1 = Sunday) or SUN-SAT, year 1970-2199.
// Names are case-insensitive. Every field takes lists (,), ranges (-), * and
// increments (/): "a/n" means a, a+n, ... up to the field's maximum, "*/n"
// starts at the field's minimum and "a-b/n" steps through the range. The
// EventBridge table does not list / for day-of-week; it is accepted there
// too (as the Quartz parser behind EventBridge does). A range whose start is
// after its end wraps around in every field but year (22-2 in hours is
// 22,23,0,1,2), as in Quartz. An increment must be between 1 and the number
// of values of its field.
//
// Exactly one of day-of-month and day-of-week must be ?: both set (even to
// *) or both ? is an error.
//
// Day-of-month specials: L is the last day of the month; LW the last weekday
// (Monday-Friday) of the month; nW (n 1-31) the weekday nearest day n within
// the same month: a Saturday moves back to Friday unless n is 1 (then
// forward to Monday the 3rd), a Sunday moves forward to Monday unless n is
// the month's last day (then back to Friday). A month shorter than n has no
// nW day (cron(0 0 31W * ? *) skips 30-day months and February, as plain 31
// does). Quartz offsets such as L-3 are not part of EventBridge and are
// rejected.
//
// Day-of-week specials: L alone is the last day of the week, Saturday (7);
// dL (d 1-7 or SUN-SAT, e.g. 5L or THUL) is the last such weekday of the
// month (5L = last Thursday); d#k (k 1-5) the k-th such weekday of the
// month (3#2 = second Tuesday); months without a k-th one are skipped
// (2#5 fires only in months with five Mondays). L, W and # must stand
// alone in their field: EventBridge rejects lists such as 3#1,6#3.
//
// # rate
//
// value is a positive integer and unit one of minute, hour, day with the
// singular exactly when value is 1 (rate(1 hour), rate(2 hours)); intervals
// are capped at 100000 days. Runs are at anchor + k*interval for k >= 1:
// the anchor itself is not a run. AWS anchors a rate schedule at the time
// the plan is created, so callers pass that time as Parse's optional
// anchor; without one (or with a zero time) the anchor is the Unix epoch,
// so rate(1 hour) runs on the hour and rate(1 day) at midnight UTC. A rate
// is elapsed time, not wall-clock time: across a daylight-saving change
// rate(1 day) keeps 24-hour steps and its local time moves by an hour.
//
// # Time zones and daylight saving
//
// cron fields are evaluated in the schedule's IANA zone (default Etc/UTC).
// A wall time that does not exist because the clock springs forward (02:30
// on 29 March 2026 in Europe/Paris) fires once, at the first instant after
// the gap (03:00 CEST); several wall times inside one gap, or a gap time and
// the wall time that ends the gap, collapse into that single run. A wall
// time that occurs twice because the clock falls back fires once, at its
// first occurrence; as a consequence cron(0 * * * ? *) in Europe/Paris does
// not fire at the second 02:00 of 25 October 2026. Daylight saving never
// makes a schedule fire twice for one wall time nor skip a day.
//
// The search horizon is the year range: Next returns the zero time when no
// run falls in or before 2199 (in the schedule's zone); this holds for rate
// schedules too.
//
// # Backup rules
//
// AWS Backup runs a rule at most once an hour: ValidateBackupFrequency
// refuses rate intervals under an hour and cron minute fields naming more
// than one minute.
package schedule
