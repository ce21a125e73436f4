package jobs

import (
	"context"
	"sync"
)

// Running is the set of jobs this process runs, by job id. The zero value
// is ready to use; it is safe for concurrent use.
type Running struct {
	mu     sync.Mutex
	cancel map[string]context.CancelCauseFunc
}

// Start registers job id and returns its context, cancelled with a cause
// by Cancel or CancelAll, and when parent ends. done must be called when
// the job's handler returns; it removes the job from the set.
func (r *Running) Start(parent context.Context, id string) (ctx context.Context, done func()) {
	ctx, cancel := context.WithCancelCause(parent)
	r.mu.Lock()
	if r.cancel == nil {
		r.cancel = map[string]context.CancelCauseFunc{}
	}
	r.cancel[id] = cancel
	r.mu.Unlock()
	return ctx, func() {
		r.mu.Lock()
		delete(r.cancel, id)
		r.mu.Unlock()
		cancel(nil)
	}
}

// Cancel cancels job id with cause if it runs here, and reports whether it
// did.
func (r *Running) Cancel(id string, cause error) bool {
	r.mu.Lock()
	cancel, ok := r.cancel[id]
	r.mu.Unlock()
	if ok {
		cancel(cause)
	}
	return ok
}

// CancelAll cancels every job with cause and returns how many there were.
func (r *Running) CancelAll(cause error) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, cancel := range r.cancel {
		cancel(cause)
	}
	return len(r.cancel)
}

// Has reports whether job id runs here now.
func (r *Running) Has(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.cancel[id]
	return ok
}
