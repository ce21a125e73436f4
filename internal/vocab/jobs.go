package vocab

import (
	"errors"
	"fmt"
	"slices"
)

// Kind names a kind of job. Each kind has its own states' transition
// table below and its own River worker.
type Kind string

// The job kinds.
const (
	KindBackup      Kind = "backup"
	KindRestore     Kind = "restore"
	KindMaintenance Kind = "maintenance"
	KindCopy        Kind = "copy"
	// KindCapture is continuous protection's capture job (a scan or a
	// batch of events); it has no AWS states of its own.
	KindCapture Kind = "capture"
	// KindVerification is a vault's integrity check (package verifyjob).
	KindVerification Kind = "verification"
)

// JobState is a job's state, as AWS Backup names them (restore jobs use
// the subset PENDING, RUNNING, COMPLETED, ABORTED, FAILED).
type JobState string

// Job states.
const (
	StateNone      JobState = "" // before the job exists: the from-state of its first event
	StateCreated   JobState = "CREATED"
	StatePending   JobState = "PENDING"
	StateRunning   JobState = "RUNNING"
	StateAborting  JobState = "ABORTING"
	StateAborted   JobState = "ABORTED"
	StateCompleted JobState = "COMPLETED"
	StateFailed    JobState = "FAILED"
	StateExpired   JobState = "EXPIRED"
	StatePartial   JobState = "PARTIAL"
)

// Recovery point statuses, as AWS Backup names them.
const (
	RecoveryPointCompleted = "COMPLETED"
	RecoveryPointPartial   = "PARTIAL"
)

// ErrInvalidTransition is returned for a state change the transition table
// does not allow: a bug in the caller, never an input error.
var ErrInvalidTransition = errors.New("invalid job state transition")

// transitions is the one table of allowed state changes, per kind: from
// state -> the states it may move to. A job whose state does not change
// (a progress or message update) needs no entry.
var transitions = map[Kind]map[JobState][]JobState{
	KindBackup: {
		// Created by StartBackupJob or a plan run; a plan run that cannot
		// back a bucket up records the job FAILED at once.
		StateNone: {StateCreated, StateFailed},
		// Claimed (RUNNING), waiting for its bucket or vault (PENDING),
		// past its start window (EXPIRED), stopped (ABORTED), failed by
		// start-up recovery (FAILED).
		StateCreated: {StatePending, StateRunning, StateExpired, StateAborted, StateFailed},
		StatePending: {StateRunning, StateExpired, StateAborted, StateFailed},
		// Ended; stopped (ABORTING, or ABORTED when coffer was stopping
		// too); past its completion window (EXPIRED); interrupted by a
		// graceful stop and queued again (CREATED).
		StateRunning: {StateCompleted, StatePartial, StateFailed, StateAborting, StateAborted, StateExpired, StateCreated},
		// A stop that arrived after the recovery point was committed still
		// ends COMPLETED or PARTIAL.
		StateAborting: {StateAborted, StateCompleted, StatePartial, StateFailed, StateExpired},
	},
	KindRestore: {
		StateNone:    {StatePending},
		StatePending: {StateRunning, StateFailed, StateAborted},
		// Taken over after its process died: queued again to resume.
		StateRunning: {StateCompleted, StateFailed, StateAborted, StatePending},
	},
	KindCopy: {
		// Created by StartCopyJob or after a plan rule's backup; a copy
		// that cannot start is recorded FAILED at once.
		StateNone:    {StateCreated, StateFailed},
		StateCreated: {StateRunning, StateFailed},
		// Interrupted by a graceful stop or taken over after its process
		// died: queued again (CREATED), it runs again from the start.
		StateRunning: {StateCompleted, StateFailed, StateCreated},
	},
	KindVerification: {
		StateNone:    {StateCreated},
		StateCreated: {StateRunning, StateFailed},
		// Interrupted by a graceful stop or taken over after its process
		// died: queued again (CREATED), it checks again from the start.
		StateRunning: {StateCompleted, StateFailed, StateCreated},
	},
	KindMaintenance: {
		StateNone: {StateCreated},
		// Claimed (RUNNING) once it holds its vault exclusively; stopped
		// or given up while queued.
		StateCreated: {StateRunning, StateAborted, StateFailed},
		// Stopped (ABORTED: no ABORTING, a sweep stops where it is);
		// interrupted by a graceful stop or taken over after its process
		// died: queued again (CREATED), maintenance is idempotent.
		StateRunning: {StateCompleted, StateFailed, StateAborted, StateCreated},
	},
}

// CanTransition reports whether a job of kind may move from one state to
// another. Staying in the same state is always allowed.
func CanTransition(kind Kind, from, to JobState) bool {
	if from == to {
		return true
	}
	return slices.Contains(transitions[kind][from], to)
}

// CheckTransition is CanTransition as an error wrapping
// ErrInvalidTransition.
func CheckTransition(kind Kind, from, to JobState) error {
	if CanTransition(kind, from, to) {
		return nil
	}
	return fmt.Errorf("%w: %s job from %q to %q", ErrInvalidTransition, kind, from, to)
}

// Terminal reports whether a job in state s has ended: no transition
// leaves it.
func Terminal(kind Kind, s JobState) bool {
	return s != StateNone && len(transitions[kind][s]) == 0
}
