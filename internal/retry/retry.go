package retry

import (
	"context"
	"time"
)

// Policy says how often a step is tried and how long to wait in between.
type Policy struct {
	// Attempts is the number of tries, the first included (at least 1).
	Attempts int
	// Backoff is the wait after the first failure; it doubles each time.
	Backoff time.Duration
}

// Do runs fn until it succeeds, its error is not transient, the attempts
// are used up or ctx is done, and returns fn's last error. It waits
// between attempts; a cancelled ctx ends the wait at once and never
// counts as transient.
func (p Policy) Do(ctx context.Context, fn func() error, transient func(error) bool) error {
	delay := p.Backoff
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || attempt >= p.Attempts || ctx.Err() != nil || !transient(err) {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		delay *= 2
	}
}
