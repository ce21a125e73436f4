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
// A pending exclusive holder blocks new shared holders, so Maintain is not
// starved by a steady stream of backups.
type gate struct {
	mu        sync.Mutex
	shared    int
	exclusive bool          // held or being acquired by Maintain
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

// acquireShared waits until no Maintain runs or waits, then takes a shared
// hold. The returned release function is idempotent.
func (g *gate) acquireShared(ctx context.Context) (func(), error) {
	for {
		g.mu.Lock()
		if !g.exclusive {
			g.shared++
			g.mu.Unlock()

			var once sync.Once

			return func() {
				once.Do(func() {
					g.mu.Lock()
					g.shared--
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

// acquireExclusive waits for other exclusive holders, blocks new shared
// holders, then waits for current shared holders to release.
func (g *gate) acquireExclusive(ctx context.Context) (func(), error) {
	// Phase 1: become the (only) exclusive holder.
	for {
		g.mu.Lock()
		if !g.exclusive {
			g.exclusive = true
			g.mu.Unlock()

			break
		}

		ch := g.waitChan()
		g.mu.Unlock()

		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}

	release := func() {
		g.mu.Lock()
		g.exclusive = false
		g.broadcast()
		g.mu.Unlock()
	}

	// Phase 2: drain shared holders.
	for {
		g.mu.Lock()
		if g.shared == 0 {
			g.mu.Unlock()

			return release, nil
		}

		ch := g.waitChan()
		g.mu.Unlock()

		select {
		case <-ch:
		case <-ctx.Done():
			release()
			return nil, ctx.Err()
		}
	}
}
