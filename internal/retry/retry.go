package retry

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cofferbackup/coffer/internal/clock"
)

// Policy says how often a step is tried and how long to wait in between.
// The zero value of a field takes the value of Default.
type Policy struct {
	// Attempts is the number of tries, the first included.
	Attempts int
	// Base is the ceiling of the first backoff; it doubles after each
	// failure. The wait is drawn between half the ceiling and the ceiling
	// ("equal jitter"), so parallel clients spread out but never retry at
	// once.
	Base time.Duration
	// ThrottleBase replaces Base after an answer that said the server is
	// overloaded (503, 429, SlowDown and the like).
	ThrottleBase time.Duration
	// MaxDelay caps one wait. A server asking (Retry-After) for more than
	// MaxDelay is not retried: it gets the error back at once.
	MaxDelay time.Duration
	// MaxTotal caps the sum of the waits of one Do; a wait that would
	// exceed it ends the loop with the last error.
	MaxTotal time.Duration

	// Clock reads Retry-After dates; default the wall clock.
	Clock clock.Clock
	// Sleep waits d or until ctx is done; default a timer. Tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand returns a number in [0, 1) for the jitter; default math/rand.
	Rand func() float64
}

// Default is coffer's policy: 5 tries, waits of 0.1-0.2 s, 0.2-0.4 s,
// 0.4-0.8 s and 0.8-1.6 s (0.5-1 s, 1-2 s, 2-4 s, 4-8 s when throttled, or
// longer when the server names a Retry-After up to 30 s), at most 60 s of
// waiting in all.
var Default = Policy{
	Attempts:     5,
	Base:         200 * time.Millisecond,
	ThrottleBase: time.Second,
	MaxDelay:     30 * time.Second,
	MaxTotal:     60 * time.Second,
}

func (p Policy) withDefaults() Policy {
	d := Default
	if p.Attempts <= 0 {
		p.Attempts = d.Attempts
	}
	if p.Base <= 0 {
		p.Base = d.Base
	}
	if p.ThrottleBase <= 0 {
		p.ThrottleBase = max(d.ThrottleBase, p.Base)
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = d.MaxDelay
	}
	if p.MaxTotal <= 0 {
		p.MaxTotal = d.MaxTotal
	}
	if p.Clock == nil {
		p.Clock = clock.Real{}
	}
	if p.Sleep == nil {
		p.Sleep = sleep
	}
	if p.Rand == nil {
		p.Rand = rand.Float64
	}
	return p
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

type loopKey struct{}

// hint is what the HTTP layer saw during one attempt.
type hint struct {
	mu         sync.Mutex
	retryAfter string // the last Retry-After header
	throttled  bool
}

func (h *hint) take() (retryAfter string, throttled bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	retryAfter, throttled = h.retryAfter, h.throttled
	h.retryAfter, h.throttled = "", false
	return retryAfter, throttled
}

// Note records, for the loop running ctx's step, an answer of the server:
// its HTTP status and Retry-After header. It does nothing outside a Do.
func Note(ctx context.Context, status int, retryAfter string) {
	h, _ := ctx.Value(loopKey{}).(*hint)
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests {
		h.throttled = true
	}
	if retryAfter != "" {
		h.retryAfter = retryAfter
	}
}

// NoteThrottled records a throttling answer recognised by its S3 error
// code (SlowDown is sometimes sent with another status).
func NoteThrottled(ctx context.Context) { Note(ctx, http.StatusServiceUnavailable, "") }

// Do runs fn until it succeeds, its error is not transient, the attempts
// or the waiting budget are used up or ctx is done, and returns fn's last
// error. fn must use the context it is given: it carries the loop, so that
// the HTTP layer's notes reach it and nested loops do not retry again.
// Inside another Do, Do runs fn once.
func (p Policy) Do(ctx context.Context, fn func(ctx context.Context) error, transient func(error) bool) error {
	if ctx.Value(loopKey{}) != nil {
		return fn(ctx)
	}
	p = p.withDefaults()
	h := &hint{}
	ctx = context.WithValue(ctx, loopKey{}, h)
	var waited time.Duration
	for attempt := 1; ; attempt++ {
		err := fn(ctx)
		retryAfter, throttled := h.take()
		if err == nil || attempt >= p.Attempts || ctx.Err() != nil || !transient(err) {
			return err
		}
		d, ok := p.wait(attempt, retryAfter, throttled)
		if !ok || waited+d > p.MaxTotal {
			return err
		}
		if p.Sleep(ctx, d) != nil {
			return err
		}
		waited += d
	}
}

// wait is the pause after the attempt-th failure; false when the server
// asked for more than MaxDelay.
func (p Policy) wait(attempt int, retryAfter string, throttled bool) (time.Duration, bool) {
	ceil := p.Base
	if throttled {
		ceil = p.ThrottleBase
	}
	for i := 1; i < attempt && ceil < p.MaxDelay; i++ {
		ceil *= 2
	}
	ceil = min(ceil, p.MaxDelay)
	d := ceil/2 + time.Duration(p.Rand()*float64(ceil/2))
	if ra, ok := ParseRetryAfter(retryAfter, p.Clock.Now()); ok {
		if ra > p.MaxDelay {
			return 0, false
		}
		d = max(d, ra)
	}
	return d, true
}

// ParseRetryAfter reads a Retry-After header: delay-seconds or an HTTP
// date (relative to now).
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 32); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}
