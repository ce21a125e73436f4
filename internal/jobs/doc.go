// Package jobs owns what every job kind (backup, restore, maintenance)
// shares at run time in one process: the set of jobs it runs now, each
// with the cancel function that a stop, a window's end, a shutdown or a
// fence calls with its cause. Which job runs where is the catalog's (a
// job's owner and run); this set is only this process's view, which the
// takeover of orphaned jobs reads.
package jobs
