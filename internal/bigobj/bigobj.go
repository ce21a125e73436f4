package bigobj

import (
	"context"
	"runtime"
)

// Threshold is the size above which an object is large: it spans more
// than one of the vault's chunks (at most 8 MiB each).
const Threshold = 8 << 20

// Limiter hands out the slots of one job. Safe for concurrent use.
type Limiter struct {
	slots chan struct{}
}

// New returns the limiter of a job with the given parallelism: as many
// slots as the process has CPUs (at least two, at most parallelism),
// since compressing, encrypting and hashing large objects is CPU bound
// beyond that.
func New(parallelism int) *Limiter {
	return &Limiter{slots: make(chan struct{}, max(1, min(parallelism, max(2, runtime.GOMAXPROCS(0)))))}
}

// Slots returns how many large objects stream at once.
func (l *Limiter) Slots() int { return cap(l.slots) }

// Acquire waits for a slot if an object of size bytes is large, and
// returns the function that gives it back (a no-op for small objects). It
// fails only when ctx is done first.
func (l *Limiter) Acquire(ctx context.Context, size int64) (release func(), err error) {
	if size <= Threshold {
		return func() {}, nil
	}
	select {
	case l.slots <- struct{}{}:
		return func() { <-l.slots }, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}
