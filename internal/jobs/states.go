package jobs

import "github.com/cofferbackup/coffer/internal/vocab"

// Job states as the catalog stores them (vocab owns them and their
// transition table).
const (
	StateCreated   = string(vocab.StateCreated)
	StatePending   = string(vocab.StatePending)
	StateRunning   = string(vocab.StateRunning)
	StateAborting  = string(vocab.StateAborting)
	StateAborted   = string(vocab.StateAborted)
	StateCompleted = string(vocab.StateCompleted)
	StateFailed    = string(vocab.StateFailed)
	StateExpired   = string(vocab.StateExpired)
	StatePartial   = string(vocab.StatePartial)
)

// ActiveBackupStates are the states of a backup job that has not ended.
var ActiveBackupStates = []string{StateCreated, StatePending, StateRunning, StateAborting}
