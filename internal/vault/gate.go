package vault

import (
	"context"
	"sync"
)

// gate is a context-aware readers/writer lock that keeps Maintain
// (exclusive) apart from everything that may write to the repository
// (shared): write sessions, recovery-point deletion and manifest reads
// (kopia may compact manifest contents while loading them).
//
// Shared holders wait while the exclusive hold is taken; the exclusive
// holder waits until there are no shared holders.
type gate struct {
	mu        sync.Mutex
	shared    int
	exclusive bool          // held by Maintain
	changed   chan struct{} // closed and replaced on every release
}

// waitChan returns a channel that is closed on the next state change.
// g.mu must be held.
func (g *gate) waitChan() chan struct{} {
	if g.changed == nil {
		g.changed = make(chan struct{})
	}

	return g.changed
}

// broadcast wakes all waiters. g.mu must be held.
func (g *gate) broadcast() {
	if g.changed != nil {
		close(g.changed)
		g.changed = nil
	}
}

// acquireShared waits until Maintain does not run, then takes a shared
// hold. The returned release function is idempotent.
func (g *gate) acquireShared(ctx context.Context) (func(), error) {
	return g.acquire(ctx,
		func() bool { return !g.exclusive },
		func() { g.shared++ },
		func() { g.shared-- })
}

// acquireExclusive waits for a moment when no shared holder exists and
// takes the exclusive hold. Waiting does not hold off new shared holders:
// Maintain waits for a quiet moment (bounded by ctx) rather than stalling
// listings and backups behind a long-running write session.
func (g *gate) acquireExclusive(ctx context.Context) (func(), error) {
	return g.acquire(ctx,
		func() bool { return !g.exclusive && g.shared == 0 },
		func() { g.exclusive = true },
		func() { g.exclusive = false })
}

// acquire waits until free() holds, then applies take(); the returned
// idempotent function applies give() and wakes the waiters. The three
// functions run with g.mu held.
func (g *gate) acquire(ctx context.Context, free func() bool, take, give func()) (func(), error) {
	for {
		g.mu.Lock()
		if free() {
			take()
			g.mu.Unlock()

			var once sync.Once

			return func() {
				once.Do(func() {
					g.mu.Lock()
					give()
					g.broadcast()
					g.mu.Unlock()
				})
			}, nil
		}

		ch := g.waitChan()
		g.mu.Unlock()

		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
