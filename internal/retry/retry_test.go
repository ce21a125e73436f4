package retry

import (
	"context"
	"errors"
	"testing"
	"time"
)

var (
	errFlaky = errors.New("flaky")
	errFinal = errors.New("final")
)

func isFlaky(err error) bool { return errors.Is(err, errFlaky) }

func TestDo(t *testing.T) {
	t.Parallel()
	p := Policy{Attempts: 3, Backoff: time.Millisecond}
	for _, tc := range []struct {
		name     string
		errs     []error // returned by successive attempts
		want     error
		attempts int
	}{
		{"first try", []error{nil}, nil, 1},
		{"transient then ok", []error{errFlaky, errFlaky, nil}, nil, 3},
		{"attempts used up", []error{errFlaky, errFlaky, errFlaky, nil}, errFlaky, 3},
		{"final error stops", []error{errFlaky, errFinal, nil}, errFinal, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			err := p.Do(context.Background(), func() error {
				calls++
				return tc.errs[calls-1]
			}, isFlaky)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) || calls != tc.attempts {
				t.Fatalf("Do = %v after %d attempts, want %v after %d", err, calls, tc.want, tc.attempts)
			}
		})
	}
}

func TestDoBacksOffAndStopsOnCancel(t *testing.T) {
	t.Parallel()
	start := time.Now()
	calls := 0
	err := Policy{Attempts: 3, Backoff: 20 * time.Millisecond}.Do(context.Background(), func() error {
		calls++
		return errFlaky
	}, isFlaky)
	// Waits of 20 and 40 ms between the three attempts.
	if !errors.Is(err, errFlaky) || calls != 3 || time.Since(start) < 60*time.Millisecond {
		t.Fatalf("Do = %v after %d attempts in %v", err, calls, time.Since(start))
	}

	ctx, cancel := context.WithCancel(context.Background())
	calls = 0
	start = time.Now()
	err = Policy{Attempts: 5, Backoff: time.Hour}.Do(ctx, func() error {
		calls++
		cancel()
		return errFlaky
	}, isFlaky)
	if !errors.Is(err, errFlaky) || calls != 1 || time.Since(start) > time.Minute {
		t.Fatalf("cancelled Do = %v after %d attempts in %v", err, calls, time.Since(start))
	}
}
