package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/cofferbackup/coffer/internal/vocab"
)

func TestRunning(t *testing.T) {
	var r Running
	errStop, errFence := errors.New("stop"), errors.New("fence")
	parent, cancelParent := context.WithCancel(context.Background())
	defer cancelParent()
	a, doneA := r.Start(parent, "A")
	b, doneB := r.Start(parent, "B")
	tests := []struct {
		name string
		got  bool
		want bool
	}{
		{"A registered", r.Has("A"), true},
		{"unknown not registered", r.Has("X"), false},
		{"cancel unknown", r.Cancel("X", errStop), false},
		{"cancel A", r.Cancel("A", errStop), true},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if !errors.Is(context.Cause(a), errStop) || b.Err() != nil {
		t.Fatalf("after Cancel(A): A's cause %v, B's err %v", context.Cause(a), b.Err())
	}
	doneA()
	if r.Has("A") {
		t.Fatal("A still registered after done")
	}
	if n := r.CancelAll(errFence); n != 1 || !errors.Is(context.Cause(b), errFence) {
		t.Fatalf("CancelAll: %d jobs, B's cause %v; want 1, fence", n, context.Cause(b))
	}
	doneB()
	c, doneC := r.Start(parent, "C")
	defer doneC()
	cancelParent()
	if c.Err() == nil {
		t.Fatal("a job's context outlived its parent")
	}
}

func TestOwnerNote(t *testing.T) {
	c := New(Config{ProcID: "coffer-me"})
	for _, tt := range []struct{ owner, want string }{
		{"coffer-me", "this process stopped running it while the catalog database was unreachable"},
		{"coffer-other", "process coffer-other that ran it stopped"},
		{"", "process (unknown) that ran it stopped"},
	} {
		if got := c.OwnerNote(tt.owner); got != tt.want {
			t.Errorf("OwnerNote(%q) = %q, want %q", tt.owner, got, tt.want)
		}
	}
}

type testKind struct{}

func (testKind) KindName() vocab.Kind { return vocab.KindRestore }

// TestArgs: one Args type serves every kind; its JSON is the job id and
// run that River rows of earlier versions hold.
func TestArgs(t *testing.T) {
	a := Args[testKind]{JobID: "J1", Run: 2}
	b, err := json.Marshal(a)
	if err != nil || string(b) != `{"job_id":"J1","run":2}` || a.Kind() != "restore" || a.CofferJobID() != "J1" {
		t.Fatalf("Args: %s %v, kind %q, id %q", b, err, a.Kind(), a.CofferJobID())
	}
}
