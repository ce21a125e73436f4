package vaults

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/cofferbackup/coffer/internal/vault"
)

// Mode is how a lease holds its vault.
type Mode int

// Lease modes.
const (
	// Shared is for everything that may run side by side on a vault:
	// backups, restores, recovery-point deletion, listings.
	Shared Mode = iota + 1
	// Exclusive is for maintenance and vault deletion.
	Exclusive
)

func (m Mode) String() string {
	switch m {
	case Shared:
		return "shared"
	case Exclusive:
		return "exclusive"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Sentinel errors; callers branch on them.
var (
	// ErrBusy: TryAcquire found the vault held in a conflicting mode. The
	// error is a *BusyError that says what holds it.
	ErrBusy = errors.New("vault is busy")
	// ErrDeleted: the vault was deleted (Lease.Delete) in this process.
	ErrDeleted = errors.New("vault was deleted")
	// ErrClosed: the registry is closed (coffer is stopping).
	ErrClosed = errors.New("vault registry is closed")
)

// BusyError is TryAcquire's answer when the vault is held in a conflicting
// mode. errors.Is(err, ErrBusy) holds.
type BusyError struct {
	// Holder says what holds the vault: the purpose an exclusive holder
	// gave ("maintenance", "deletion"), or HolderJobs for shared holders.
	Holder string
}

// HolderJobs is BusyError.Holder when shared holders keep an exclusive
// request out.
const HolderJobs = "running jobs"

func (e *BusyError) Error() string { return "vault is held for " + e.Holder }

// Is makes errors.Is(err, ErrBusy) hold.
func (e *BusyError) Is(target error) bool { return target == ErrBusy }

// OpenFunc opens the vault with the given id. The registry calls it once
// per vault, on the vault's first lease, and closes what it returned.
type OpenFunc func(ctx context.Context, id string) (*vault.Vault, error)

// Options tunes a registry.
type Options struct {
	// KeepIdle is how many vaults that no lease holds stay open: the most
	// recently released ones, so that the next job on a busy vault skips
	// the open (its key derivation, its index load); the others are closed
	// as they fall out, and their memory goes back. Negative keeps every
	// vault open.
	KeepIdle int
	// Log gets the errors of closing an idle vault (nil: slog.Default).
	Log *slog.Logger
}

// DefaultKeepIdle is the KeepIdle of a registry that is told none: a copy
// job's two vaults and a couple of busy ones.
const DefaultKeepIdle = 4

// Registry holds the open vaults of this process by id and their leases.
// Safe for concurrent use.
type Registry struct {
	open     OpenFunc
	keepIdle int
	log      *slog.Logger

	mu      sync.Mutex
	closed  bool
	entries map[string]*entry // by vault id; deleted vaults stay as tombstones
	idle    list.List         // of *entry, open and unleased; front: released last
	closing sync.WaitGroup    // idle vaults being closed
}

// entry is one vault's lease state. Its fields but opening are guarded by
// Registry.mu.
type entry struct {
	id        string
	v         *vault.Vault  // nil until opened
	opening   chan struct{} // one-slot semaphore: one opener at a time
	shared    int
	exclusive bool
	purpose   string // the exclusive holder's
	deleted   bool
	waiters   int           // requests waiting (tests look at it)
	changed   chan struct{} // closed and replaced on every release
	idle      *list.Element // in Registry.idle while open and unleased
}

// New returns a registry that opens vaults with open.
func New(open OpenFunc, opts Options) *Registry {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	return &Registry{open: open, keepIdle: opts.KeepIdle, log: opts.Log, entries: map[string]*entry{}}
}

// Add registers a vault that the caller has just created and opened, so
// that its first lease does not open it again. If the vault is already
// open, v is closed and the open one kept.
func (r *Registry) Add(ctx context.Context, id string, v *vault.Vault) error {
	r.mu.Lock()
	e, err := r.entryLocked(id)
	if err == nil && e.v == nil {
		e.v = v
		r.idleLocked(e)
		victims := r.evictLocked()
		r.mu.Unlock()
		r.closeIdle(victims)
		return nil
	}
	r.mu.Unlock()
	if cerr := v.Close(ctx); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close vault %s: %w", id, cerr))
	}
	return err
}

// Acquire waits until vault id can be held in mode, then returns the
// lease, the vault opened if need be. A shared request waits only while
// an exclusive lease is held; an exclusive request waits until no lease is
// held, and new shared requests pass it meanwhile. The wait ends with an
// error wrapping ctx.Err() when ctx ends, ErrDeleted when the vault is
// deleted, ErrClosed when the registry closes. purpose says what an
// exclusive lease is for (BusyError.Holder); shared leases ignore it.
func (r *Registry) Acquire(ctx context.Context, id string, mode Mode, purpose string) (*Lease, error) {
	return r.acquire(ctx, id, mode, purpose, true)
}

// TryAcquire is Acquire without the wait: if the vault is held in a
// conflicting mode it returns a *BusyError at once. (Opening the vault on
// its first lease may still take a moment.)
func (r *Registry) TryAcquire(ctx context.Context, id string, mode Mode, purpose string) (*Lease, error) {
	return r.acquire(ctx, id, mode, purpose, false)
}

// Hold takes the lease as Acquire does (waiting) but does not open the
// vault: Lease.Vault is nil unless it was open already. It is for a vault
// whose files are gone (the deletion of a vanished vault), which no one
// can open but whose lease must still exclude everyone and mark it deleted.
func (r *Registry) Hold(ctx context.Context, id string, mode Mode, purpose string) (*Lease, error) {
	if mode != Shared && mode != Exclusive {
		return nil, fmt.Errorf("lease vault %s: invalid mode %v", id, mode)
	}
	if purpose == "" {
		purpose = "exclusive use"
	}
	e, err := r.take(ctx, id, mode, purpose, true)
	if err != nil {
		return nil, err
	}
	return &Lease{r: r, e: e, mode: mode, v: r.opened(e)}, nil
}

func (r *Registry) acquire(ctx context.Context, id string, mode Mode, purpose string, wait bool) (*Lease, error) {
	if mode != Shared && mode != Exclusive {
		return nil, fmt.Errorf("lease vault %s: invalid mode %v", id, mode)
	}
	if purpose == "" {
		purpose = "exclusive use"
	}
	e, err := r.take(ctx, id, mode, purpose, wait)
	if err != nil {
		return nil, err
	}
	l := &Lease{r: r, e: e, mode: mode}
	if l.v, err = r.ensureOpen(ctx, e); err != nil {
		l.Release()
		return nil, err
	}
	return l, nil
}

// take waits (if wait) until e is free for mode and takes it.
func (r *Registry) take(ctx context.Context, id string, mode Mode, purpose string, wait bool) (*entry, error) {
	for {
		r.mu.Lock()
		e, err := r.entryLocked(id)
		if err != nil {
			r.mu.Unlock()
			return nil, err
		}
		if !e.exclusive && (mode == Shared || e.shared == 0) {
			r.unidleLocked(e)
			if mode == Shared {
				e.shared++
			} else {
				e.exclusive, e.purpose = true, purpose
			}
			r.mu.Unlock()
			return e, nil
		}
		if !wait {
			busy := &BusyError{Holder: HolderJobs}
			if e.exclusive {
				busy.Holder = e.purpose
			}
			r.mu.Unlock()
			return nil, fmt.Errorf("lease vault %s: %w", id, busy)
		}
		if e.changed == nil {
			e.changed = make(chan struct{})
		}
		ch := e.changed
		e.waiters++
		r.mu.Unlock()
		select {
		case <-ch:
			r.mu.Lock()
			e.waiters--
			r.mu.Unlock()
		case <-ctx.Done():
			r.mu.Lock()
			e.waiters--
			r.mu.Unlock()
			return nil, fmt.Errorf("wait for %s lease of vault %s: %w", mode, id, ctx.Err())
		}
	}
}

// entryLocked returns id's entry, creating it. r.mu must be held.
func (r *Registry) entryLocked(id string) (*entry, error) {
	if r.closed {
		return nil, fmt.Errorf("vault %s: %w", id, ErrClosed)
	}
	e := r.entries[id]
	if e == nil {
		e = &entry{id: id, opening: make(chan struct{}, 1)}
		r.entries[id] = e
	}
	if e.deleted {
		return nil, fmt.Errorf("vault %s: %w", id, ErrDeleted)
	}
	return e, nil
}

// broadcastLocked wakes e's waiters. r.mu must be held.
func (e *entry) broadcastLocked() {
	if e.changed != nil {
		close(e.changed)
		e.changed = nil
	}
}

// ensureOpen returns e's vault, opening it if no one has. The caller holds
// a lease on e, so the vault cannot be deleted meanwhile.
func (r *Registry) ensureOpen(ctx context.Context, e *entry) (*vault.Vault, error) {
	if v := r.opened(e); v != nil {
		return v, nil
	}
	select {
	case e.opening <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for vault %s to open: %w", e.id, ctx.Err())
	}
	defer func() { <-e.opening }()
	if v := r.opened(e); v != nil {
		return v, nil // opened while this one waited
	}
	// The vault outlives the request that opens it: it serves every later
	// lease, so its engine must not inherit this request's cancellation.
	v, err := r.open(context.WithoutCancel(ctx), e.id)
	if err != nil {
		return nil, fmt.Errorf("open vault %s: %w", e.id, err)
	}
	r.mu.Lock()
	keep, closed := e.v, r.closed
	if keep == nil && !closed {
		e.v, keep = v, v
	}
	r.mu.Unlock()
	if keep == v {
		return v, nil
	}
	// Add won the race, or Close ran while the vault opened.
	if err := v.Close(ctx); err != nil {
		return nil, fmt.Errorf("close vault %s: %w", e.id, err)
	}
	if closed {
		return nil, fmt.Errorf("vault %s: %w", e.id, ErrClosed)
	}
	return keep, nil
}

func (r *Registry) opened(e *entry) *vault.Vault {
	r.mu.Lock()
	defer r.mu.Unlock()
	return e.v
}

// Close closes every open vault; waiting requests and later ones fail
// with ErrClosed. It does not wait for leases still held (the job queue
// has stopped its jobs by then); their vaults fail their next operation.
func (r *Registry) Close(ctx context.Context) error {
	r.mu.Lock()
	r.closed = true
	var open []*entry
	for _, e := range r.entries {
		if e.v != nil {
			open = append(open, e)
		}
		e.broadcastLocked()
	}
	vs := make([]*vault.Vault, len(open))
	for i, e := range open {
		vs[i], e.v = e.v, nil
		r.unidleLocked(e)
	}
	r.mu.Unlock()
	r.closing.Wait()
	var errs []error
	for i, v := range vs {
		if err := v.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close vault %s: %w", open[i].id, err))
		}
	}
	return errors.Join(errs...)
}

// idleLocked puts e at the front of the idle list if it is open and no
// lease holds it. r.mu must be held.
func (r *Registry) idleLocked(e *entry) {
	if e.idle == nil && e.v != nil && e.shared == 0 && !e.exclusive && !e.deleted && !r.closed {
		e.idle = r.idle.PushFront(e)
	}
}

// unidleLocked takes e off the idle list. r.mu must be held.
func (r *Registry) unidleLocked(e *entry) {
	if e.idle != nil {
		r.idle.Remove(e.idle)
		e.idle = nil
	}
}

// victim is an idle vault taken out of its entry, to be closed.
type victim struct {
	e *entry
	v *vault.Vault
}

// evictLocked takes the idle vaults beyond keepIdle out of their entries,
// least recently released first, holding each entry's opening slot: a
// lease taken meanwhile opens the vault again only once its close is
// done, so a vault's files never have two engines on them. r.mu must be
// held; pass what it returns to closeIdle once r.mu is released.
func (r *Registry) evictLocked() []victim {
	if r.keepIdle < 0 {
		return nil
	}
	var out []victim
	for r.idle.Len() > r.keepIdle {
		e := r.idle.Back().Value.(*entry)
		r.unidleLocked(e)
		select {
		case e.opening <- struct{}{}:
		default:
			continue // cannot happen (openers hold a lease); leave it open
		}
		out = append(out, victim{e: e, v: e.v})
		e.v = nil
		r.closing.Add(1)
	}
	return out
}

// closeIdle closes evicted vaults and frees their entries' opening slots.
// No lease holds them, so nothing in flight uses them.
func (r *Registry) closeIdle(victims []victim) {
	for _, vc := range victims {
		// The releaser's context may be ending (a stopped job): the close
		// is bookkeeping that must run regardless.
		if err := vc.v.Close(context.Background()); err != nil {
			r.log.Warn("close idle vault", "vault", vc.e.id, "err", err)
		}
		<-vc.e.opening
		r.closing.Done()
	}
}

// Lease is one hold on a vault. Release it when done.
type Lease struct {
	r    *Registry
	e    *entry
	mode Mode
	v    *vault.Vault
	once sync.Once
}

// Vault returns the leased vault, open for as long as the lease is held
// (unless the lease deleted it or the registry closed).
func (l *Lease) Vault() *vault.Vault { return l.v }

// Mode returns how the lease holds its vault.
func (l *Lease) Mode() Mode { return l.mode }

// Release gives the lease back and wakes the requests waiting for it.
// Calling it again does nothing.
func (l *Lease) Release() {
	l.once.Do(func() {
		r := l.r
		r.mu.Lock()
		if l.mode == Shared {
			l.e.shared--
		} else {
			l.e.exclusive, l.e.purpose = false, ""
		}
		l.e.broadcastLocked()
		r.idleLocked(l.e)
		victims := r.evictLocked()
		r.mu.Unlock()
		r.closeIdle(victims)
	})
}

// Delete marks the vault deleted and closes it; the lease must be
// exclusive. Every request waiting for the vault, and every later one,
// fails with ErrDeleted, so a job that waited for the deletion fails
// cleanly instead of opening the removed vault again. Removing the
// vault's files is the caller's business. Release the lease afterwards.
func (l *Lease) Delete(ctx context.Context) error {
	if l.mode != Exclusive {
		return fmt.Errorf("delete vault %s: needs an exclusive lease, not a %s one", l.e.id, l.mode)
	}
	l.r.mu.Lock()
	l.e.deleted = true
	v := l.e.v
	l.e.v = nil
	l.r.mu.Unlock()
	if v == nil {
		return nil
	}
	if err := v.Close(ctx); err != nil {
		return fmt.Errorf("close deleted vault %s: %w", l.e.id, err)
	}
	return nil
}

// waiting reports how many requests wait for vault id (for tests).
func (r *Registry) waiting(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.entries[id]; e != nil {
		return e.waiters
	}
	return 0
}
