package vocab

import (
	"errors"
	"testing"
)

func TestCanTransition(t *testing.T) {
	tests := []struct {
		kind     Kind
		from, to JobState
		want     bool
	}{
		{KindBackup, StateNone, StateCreated, true},
		{KindMaintenance, StateNone, StateCreated, true},
		{KindMaintenance, StateCreated, StateRunning, true},
		{KindMaintenance, StateCreated, StateAborted, true},
		{KindMaintenance, StateRunning, StateAborted, true},
		{KindMaintenance, StateRunning, StatePartial, false},
		{KindMaintenance, StateRunning, StateAborting, false},
		{KindMaintenance, StateCreated, StatePending, false},
		{KindMaintenance, StateCompleted, StateRunning, false},
		{KindBackup, StateNone, StateFailed, true},
		{KindBackup, StateNone, StateRunning, false},
		{KindBackup, StateCreated, StateRunning, true},
		{KindBackup, StatePending, StateRunning, true},
		{KindBackup, StateCreated, StateCompleted, false},
		{KindBackup, StateRunning, StateCreated, true}, // graceful stop re-queues
		{KindBackup, StateRunning, StateAborting, true},
		{KindBackup, StateAborting, StateCompleted, true},
		{KindBackup, StateAborting, StateRunning, false},
		{KindBackup, StateCompleted, StateFailed, false},
		{KindBackup, StateCompleted, StateCompleted, true}, // no change
		{KindRestore, StateNone, StatePending, true},
		{KindRestore, StatePending, StateRunning, true},
		{KindRestore, StatePending, StateCompleted, false},
		{KindRestore, StateRunning, StateCompleted, true},
		{KindRestore, StateFailed, StateRunning, false},
		{KindRestore, StateRunning, StatePending, true}, // taken over
		{Kind("unknown"), StateNone, StateCreated, false},
	}
	for _, tt := range tests {
		if got := CanTransition(tt.kind, tt.from, tt.to); got != tt.want {
			t.Errorf("%s %q -> %q: %v, want %v", tt.kind, tt.from, tt.to, got, tt.want)
		}
		if err := CheckTransition(tt.kind, tt.from, tt.to); (err == nil) != tt.want || (err != nil && !errors.Is(err, ErrInvalidTransition)) {
			t.Errorf("CheckTransition %s %q -> %q: %v", tt.kind, tt.from, tt.to, err)
		}
	}
}

func TestTerminal(t *testing.T) {
	for _, s := range []JobState{StateCompleted, StatePartial, StateFailed, StateAborted, StateExpired} {
		if !Terminal(KindBackup, s) {
			t.Errorf("backup %s should be terminal", s)
		}
	}
	for _, s := range []JobState{StateNone, StateCreated, StatePending, StateRunning, StateAborting} {
		if Terminal(KindBackup, s) {
			t.Errorf("backup %s should not be terminal", s)
		}
	}
}

func TestNamesAndIDs(t *testing.T) {
	n := Names{Region: "eu-west-3", AccountID: "123456789012"}
	if got, want := n.VaultARN("main"), "arn:aws:backup:eu-west-3:123456789012:backup-vault:main"; got != want {
		t.Errorf("VaultARN %q, want %q", got, want)
	}
	if got, want := n.RecoveryPointARN("X"), "arn:aws:backup:eu-west-3:123456789012:recovery-point:X"; got != want {
		t.Errorf("RecoveryPointARN %q, want %q", got, want)
	}
	a, b := NewID(), NewID()
	if a == b || len(a) != 36 || a[14] != '4' {
		t.Errorf("ids %q %q: want distinct upper-case UUIDv4 shapes", a, b)
	}
}
