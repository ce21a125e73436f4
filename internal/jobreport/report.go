package jobreport

import (
	"sync"
	"time"
)

// Failure is one object version a job had to leave out, and why.
type Failure struct {
	Key       string
	VersionID string `json:",omitempty"`
	Reason    string
}

// Log collects a job's failures (the first Max of them) and notes. The
// zero value keeps no failures; safe for concurrent use.
type Log struct {
	Max int // failures kept; later ones are only counted by the caller

	mu       sync.Mutex
	failures []Failure
	notes    []string
	details  []string
	noted    map[string]bool
}

// Fail records a failure unless Max are kept already.
func (l *Log) Fail(key, versionID string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.failures) < l.Max {
		l.failures = append(l.failures, Failure{Key: key, VersionID: versionID, Reason: err.Error()})
	}
}

// Note adds a remark.
func (l *Log) Note(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.notes = append(l.notes, s)
}

// NoteOnce adds a remark unless one of the same kind was added: a problem
// that hits every version is told once.
func (l *Log) NoteOnce(kind, s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.noted[kind] {
		return
	}
	if l.noted == nil {
		l.noted = map[string]bool{}
	}
	l.noted[kind] = true
	l.notes = append(l.notes, s)
}

// NoteOnceDetail is NoteOnce for a problem whose first instance names an
// object: note (without any key) goes to the status message, detail only
// to the job report in the vault.
func (l *Log) NoteOnceDetail(kind, note, detail string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.noted[kind] {
		return
	}
	if l.noted == nil {
		l.noted = map[string]bool{}
	}
	l.noted[kind] = true
	l.notes = append(l.notes, note)
	l.details = append(l.details, detail)
}

// Details returns a copy of the details (NoteOnceDetail), in the order added.
func (l *Log) Details() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.details...)
}

// Failures returns a copy of the failures kept, in the order recorded.
func (l *Log) Failures() []Failure {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Failure(nil), l.failures...)
}

// Notes returns a copy of the notes, in the order added.
func (l *Log) Notes() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.notes...)
}

// progressInterval paces progress reports: often enough for a job's
// status to move, rarely enough not to load the catalog.
const progressInterval = 500 * time.Millisecond

// StartProgress calls report with snapshot() every half second until the
// returned stop function is called, which waits for the reporter and
// reports one final time, so the caller's last report is complete. A nil
// report makes stop a no-op.
func StartProgress[S any](snapshot func() S, report func(S)) (stop func()) {
	if report == nil {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(progressInterval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				report(snapshot())
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		report(snapshot())
	}
}
