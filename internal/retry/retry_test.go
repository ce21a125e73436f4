package retry

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/clock"
)

var (
	errFlaky = errors.New("flaky")
	errFinal = errors.New("final")
)

func isFlaky(err error) bool { return errors.Is(err, errFlaky) }

// recorder is a policy whose waits are recorded instead of slept, with the
// jitter in the middle (each wait is 3/4 of its ceiling).
func recorder(p Policy) (Policy, *[]time.Duration) {
	var waits []time.Duration
	p.Sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	p.Rand = func() float64 { return 0.5 }
	p.Clock = clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	return p, &waits
}

// answer is what one attempt returns and what the HTTP layer noted.
type answer struct {
	err        error
	status     int
	retryAfter string
}

func TestDo(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	base := Policy{Attempts: 4, Base: 100 * ms, ThrottleBase: time.Second, MaxDelay: 10 * time.Second, MaxTotal: 30 * time.Second}
	for _, tc := range []struct {
		name     string
		policy   Policy
		answers  []answer
		want     error
		attempts int
		waits    []time.Duration
	}{
		{"first try", base, []answer{{}}, nil, 1, nil},
		{"transient then ok", base, []answer{{err: errFlaky}, {err: errFlaky}, {}}, nil, 3, []time.Duration{75 * ms, 150 * ms}},
		{"attempts used up", base, []answer{{err: errFlaky}, {err: errFlaky}, {err: errFlaky}, {err: errFlaky}, {}}, errFlaky, 4,
			[]time.Duration{75 * ms, 150 * ms, 300 * ms}},
		{"final error stops", base, []answer{{err: errFlaky}, {err: errFinal}, {}}, errFinal, 2, []time.Duration{75 * ms}},
		{"throttled backs off longer", base, []answer{{err: errFlaky, status: 503}, {err: errFlaky, status: 429}, {}}, nil, 3,
			[]time.Duration{750 * ms, 1500 * ms}},
		{"retry-after seconds honoured", base, []answer{{err: errFlaky, status: 503, retryAfter: "3"}, {}}, nil, 2, []time.Duration{3 * time.Second}},
		{"retry-after date honoured", base, []answer{{err: errFlaky, status: 503, retryAfter: "Fri, 02 Jan 2026 03:04:09 GMT"}, {}}, nil, 2,
			[]time.Duration{4 * time.Second}},
		{"retry-after shorter than backoff", base, []answer{{err: errFlaky, retryAfter: "0"}, {}}, nil, 2, []time.Duration{75 * ms}},
		{"retry-after beyond MaxDelay gives up", base, []answer{{err: errFlaky, status: 503, retryAfter: "11"}, {}}, errFlaky, 1, nil},
		{"total budget bounds the loop", Policy{Attempts: 10, Base: time.Second, MaxDelay: 4 * time.Second, MaxTotal: 5 * time.Second},
			[]answer{{err: errFlaky}, {err: errFlaky}, {err: errFlaky}, {}}, errFlaky, 3, []time.Duration{750 * ms, 1500 * ms}},
		{"backoff capped by MaxDelay", Policy{Attempts: 4, Base: 3 * time.Second, MaxDelay: 4 * time.Second, MaxTotal: time.Minute},
			[]answer{{err: errFlaky}, {err: errFlaky}, {err: errFlaky}, {}}, nil, 4,
			[]time.Duration{2250 * ms, 3 * time.Second, 3 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, waits := recorder(tc.policy)
			calls := 0
			err := p.Do(context.Background(), func(ctx context.Context) error {
				a := tc.answers[calls]
				calls++
				if a.status != 0 || a.retryAfter != "" {
					Note(ctx, a.status, a.retryAfter)
				}
				return a.err
			}, isFlaky)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) || calls != tc.attempts {
				t.Fatalf("Do = %v after %d attempts, want %v after %d", err, calls, tc.want, tc.attempts)
			}
			if !slices.Equal(*waits, tc.waits) {
				t.Fatalf("waits %v, want %v", *waits, tc.waits)
			}
		})
	}
}

// TestNestedDoDoesNotMultiply: an inner loop runs its function once and
// the outer loop alone decides, seeing the inner request's notes.
func TestNestedDoDoesNotMultiply(t *testing.T) {
	t.Parallel()
	outer, waits := recorder(Policy{Attempts: 3, Base: 10 * time.Millisecond})
	inner := Policy{Attempts: 10}
	tries := 0
	err := outer.Do(context.Background(), func(ctx context.Context) error {
		return inner.Do(ctx, func(ctx context.Context) error {
			tries++
			Note(ctx, http.StatusServiceUnavailable, "2")
			return errFlaky
		}, isFlaky)
	}, isFlaky)
	if !errors.Is(err, errFlaky) || tries != 3 {
		t.Fatalf("nested Do = %v after %d tries, want 3 (the outer policy's)", err, tries)
	}
	if !slices.Equal(*waits, []time.Duration{2 * time.Second, 2 * time.Second}) {
		t.Fatalf("waits %v: the inner request's Retry-After did not reach the outer loop", *waits)
	}
}

func TestDoBacksOffAndStopsOnCancel(t *testing.T) {
	t.Parallel()
	start := time.Now()
	calls := 0
	err := Policy{Attempts: 3, Base: 40 * time.Millisecond}.Do(context.Background(), func(context.Context) error {
		calls++
		return errFlaky
	}, isFlaky)
	// Real waits of at least 20 and 40 ms between the three attempts.
	if !errors.Is(err, errFlaky) || calls != 3 || time.Since(start) < 60*time.Millisecond {
		t.Fatalf("Do = %v after %d attempts in %v", err, calls, time.Since(start))
	}

	ctx, cancel := context.WithCancel(context.Background())
	calls = 0
	start = time.Now()
	err = Policy{Attempts: 5, Base: 20 * time.Second}.Do(ctx, func(context.Context) error {
		calls++
		cancel()
		return errFlaky
	}, isFlaky)
	if !errors.Is(err, errFlaky) || calls != 1 || time.Since(start) > 10*time.Second {
		t.Fatalf("cancelled Do = %v after %d attempts in %v", err, calls, time.Since(start))
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"7", 7 * time.Second, true},
		{" 0 ", 0, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{"Fri, 02 Jan 2026 03:05:05 GMT", time.Minute, true},
		{"Fri, 02 Jan 2026 03:00:00 GMT", 0, true}, // in the past: retry now
	} {
		got, ok := ParseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
