// Package jobs is the job core that every job kind (backup, restore,
// maintenance, and the kinds to come) runs on: the set of jobs a process
// runs now, each cancellable with a cause (a stop, a window's end, a
// shutdown, a fence); queuing a kind's River job in the transaction that
// records the job; the causes and retry pauses every handler shares;
// catalog writes that outlast a database outage; the process heartbeat
// and its fence; and the takeover of jobs whose process died.
//
// Which job runs where is the catalog's (a job's owner and run); the
// Running set is only this process's view. Each kind lives in its own
// package and registers its River args and worker with jobqueue; the
// state transitions themselves are the catalog's, checked against the one
// table in package vocab.
package jobs
