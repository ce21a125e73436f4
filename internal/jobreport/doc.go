// Package jobreport owns what a data-plane job (a backup or a restore)
// tells about itself while and after it runs: progress reports at a
// steady pace, the versions it had to leave out (bounded, so a job over a
// bucket where everything fails does not hold every failure in memory) and
// the human remarks that end up in the job's status message.
//
// The engines keep their own counters; this package only carries them to
// the caller and collects the rest, safely from many goroutines.
package jobreport
