package vaults

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/vault"
)

const (
	testSecret = "correct horse battery staple"
	testID     = "v-test"
)

// harness is a registry whose OpenFunc hands out one real vault.
type harness struct {
	r     *Registry
	v     *vault.Vault
	opens atomic.Int32
	fail  atomic.Bool // the next opens fail
}

// Creating a vault derives its keys (scrypt), seconds under the race
// detector: rows that neither delete nor close share one vault, made in
// TestMain.
var sharedVault *vault.Vault

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "coffer-vaults-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sharedVault, err = vault.Create(context.Background(), filepath.Join(dir, testID), testSecret, vault.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "create vault:", err)
		os.Exit(1)
	}
	code := m.Run()
	if err := sharedVault.Close(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "close vault:", err)
		code = 1
	}
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func createVault(t *testing.T) *vault.Vault {
	t.Helper()
	v, err := vault.Create(context.Background(), filepath.Join(t.TempDir(), testID), testSecret, vault.Options{})
	if err != nil {
		t.Fatalf("create vault: %v", err)
	}
	return v
}

// newHarness returns a registry over a vault of its own if fresh (closed
// with the registry at the end of the test), else over the shared vault.
func newHarness(t *testing.T, fresh bool) *harness {
	t.Helper()
	h := &harness{}
	if fresh {
		h.v = createVault(t)
	} else {
		h.v = sharedVault
	}
	h.r = New(func(ctx context.Context, id string) (*vault.Vault, error) {
		h.opens.Add(1)
		if h.fail.Load() {
			return nil, errors.New("disk on fire")
		}
		if id != testID {
			return nil, fmt.Errorf("no vault %s", id)
		}
		return h.v, nil
	}, Options{KeepIdle: -1}) // its one vault serves every open: never close it
	if fresh {
		t.Cleanup(func() {
			if err := h.r.Close(context.Background()); err != nil {
				t.Errorf("close registry: %v", err)
			}
		})
	}
	return h
}

// waitWaiting waits until n requests wait for the test vault.
func (h *harness) waitWaiting(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for h.r.waiting(testID) != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests wait, want %d", h.r.waiting(testID), n)
		}
		time.Sleep(time.Millisecond)
	}
}

type result struct {
	l   *Lease
	err error
}

// request starts an Acquire (or TryAcquire) in the background.
func (h *harness) request(ctx context.Context, mode Mode, try bool) chan result {
	done := make(chan result, 1)
	go func() {
		acquire := h.r.Acquire
		if try {
			acquire = h.r.TryAcquire
		}
		l, err := acquire(ctx, testID, mode, "maintenance")
		done <- result{l, err}
	}()
	return done
}

func await(t *testing.T, done chan result) result {
	t.Helper()
	select {
	case res := <-done:
		return res
	case <-time.After(5 * time.Second):
		t.Fatal("the request still waits after 5s")
		return result{}
	}
}

func TestLease(t *testing.T) {
	tests := []struct {
		name    string
		held    []Mode // leases held before the request
		waiting Mode   // an exclusive request already waiting, if set
		mode    Mode
		try     bool
		// then is what happens once the request waits: "" (it must not
		// wait), "release" (the held leases), "cancel", "deadline" or
		// "delete" (the held exclusive lease deletes the vault).
		then       string
		wantErr    error
		wantHolder string
	}{
		{name: "shared on a free vault", mode: Shared},
		{name: "exclusive on a free vault", mode: Exclusive},
		{name: "shared beside shared", held: []Mode{Shared}, mode: Shared},
		{name: "shared while exclusive waits", held: []Mode{Shared}, waiting: Exclusive, mode: Shared},
		{name: "try shared while exclusive waits", held: []Mode{Shared}, waiting: Exclusive, mode: Shared, try: true},
		{name: "exclusive after shared release", held: []Mode{Shared, Shared}, mode: Exclusive, then: "release"},
		{name: "shared after exclusive release", held: []Mode{Exclusive}, mode: Shared, then: "release"},
		{name: "exclusive after exclusive release", held: []Mode{Exclusive}, mode: Exclusive, then: "release"},
		{name: "shared wait cancelled", held: []Mode{Exclusive}, mode: Shared, then: "cancel", wantErr: context.Canceled},
		{name: "shared wait past its deadline", held: []Mode{Exclusive}, mode: Shared, then: "deadline", wantErr: context.DeadlineExceeded},
		{name: "exclusive wait behind shared cancelled", held: []Mode{Shared}, mode: Exclusive, then: "cancel", wantErr: context.Canceled},
		{name: "exclusive wait behind exclusive past its deadline", held: []Mode{Exclusive}, mode: Exclusive, then: "deadline", wantErr: context.DeadlineExceeded},
		{name: "try shared while maintenance holds", held: []Mode{Exclusive}, mode: Shared, try: true, wantErr: ErrBusy, wantHolder: "maintenance"},
		{name: "try exclusive while jobs hold", held: []Mode{Shared}, mode: Exclusive, try: true, wantErr: ErrBusy, wantHolder: HolderJobs},
		{name: "shared waiting for a deletion", held: []Mode{Exclusive}, mode: Shared, then: "delete", wantErr: ErrDeleted},
		{name: "exclusive waiting for a deletion", held: []Mode{Exclusive}, mode: Exclusive, then: "delete", wantErr: ErrDeleted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			h := newHarness(t, tt.then == "delete")
			var held []*Lease
			for _, m := range tt.held {
				l, err := h.r.TryAcquire(ctx, testID, m, "maintenance")
				if err != nil {
					t.Fatalf("hold %s: %v", m, err)
				}
				held = append(held, l)
			}
			var earlier chan result
			waitCtx, cancelEarlier := context.WithCancel(ctx)
			defer cancelEarlier()
			if tt.waiting != 0 {
				earlier = h.request(waitCtx, tt.waiting, false)
				h.waitWaiting(t, 1)
			}
			reqCtx, cancel := context.WithCancel(ctx)
			if tt.then == "deadline" {
				reqCtx, cancel = context.WithTimeout(ctx, 50*time.Millisecond)
			}
			defer cancel()
			done := h.request(reqCtx, tt.mode, tt.try)
			if tt.then != "" && tt.then != "deadline" {
				h.waitWaiting(t, 1)
			}
			switch tt.then {
			case "release":
				for _, l := range held {
					l.Release()
				}
			case "cancel":
				cancel()
			case "delete":
				if err := held[0].Delete(ctx); err != nil {
					t.Fatalf("delete: %v", err)
				}
				held[0].Release()
			}
			res := await(t, done)
			checkResult(t, res, tt.wantErr, tt.wantHolder)
			if earlier != nil {
				select {
				case r := <-earlier:
					t.Fatalf("the earlier exclusive request was granted (%v) while shared leases are held", r.err)
				default:
				}
			}

			// Everything released, nothing must remain held.
			if res.l != nil {
				res.l.Release()
			}
			for _, l := range held {
				l.Release()
			}
			if earlier != nil {
				r := await(t, earlier)
				if r.err != nil {
					t.Fatalf("the waiting exclusive request, once all was released: %v", r.err)
				}
				r.l.Release()
			}
			if tt.then == "delete" {
				checkDeleted(t, h, held[0])
				return
			}
			l, err := h.r.TryAcquire(ctx, testID, Exclusive, "check")
			if err != nil {
				t.Fatalf("after release: %v", err)
			}
			l.Release()
			if n := h.opens.Load(); n != 1 {
				t.Fatalf("vault opened %d times, want 1", n)
			}
		})
	}
}

func checkResult(t *testing.T, res result, wantErr error, wantHolder string) {
	t.Helper()
	if wantErr == nil {
		if res.err != nil {
			t.Fatalf("got %v, want a lease", res.err)
		}
		if _, err := res.l.Vault().RecoveryPoints(context.Background()); err != nil {
			t.Fatalf("leased vault unusable: %v", err)
		}
		return
	}
	if !errors.Is(res.err, wantErr) {
		t.Fatalf("got lease %v / error %v, want %v", res.l != nil, res.err, wantErr)
	}
	if wantHolder != "" {
		var busy *BusyError
		if !errors.As(res.err, &busy) || busy.Holder != wantHolder {
			t.Fatalf("error %v: want holder %q", res.err, wantHolder)
		}
	}
}

func checkDeleted(t *testing.T, h *harness, deleter *Lease) {
	t.Helper()
	ctx := context.Background()
	for _, mode := range []Mode{Shared, Exclusive} {
		if _, err := h.r.Acquire(ctx, testID, mode, "again"); !errors.Is(err, ErrDeleted) {
			t.Fatalf("%s lease after deletion: %v, want ErrDeleted", mode, err)
		}
	}
	if _, err := deleter.Vault().RecoveryPoints(ctx); err == nil {
		t.Fatal("the deleted vault is still open")
	}
	if n := h.opens.Load(); n != 1 {
		t.Fatalf("vault opened %d times, want 1 (a deleted vault is never opened again)", n)
	}
}

func TestCloseEndsWaits(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, true)
	held, err := h.r.Acquire(ctx, testID, Exclusive, "maintenance")
	if err != nil {
		t.Fatal(err)
	}
	done := h.request(ctx, Shared, false)
	h.waitWaiting(t, 1)
	if err := h.r.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if res := await(t, done); !errors.Is(res.err, ErrClosed) {
		t.Fatalf("waiting request after Close: %v, want ErrClosed", res.err)
	}
	if _, err := h.r.TryAcquire(ctx, testID, Shared, ""); !errors.Is(err, ErrClosed) {
		t.Fatalf("request after Close: %v, want ErrClosed", err)
	}
	if _, err := held.Vault().RecoveryPoints(ctx); err == nil {
		t.Fatal("Close left the vault open")
	}
	held.Release() // after Close: harmless
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, false)
	h.fail.Store(true)
	if _, err := h.r.Acquire(ctx, testID, Exclusive, "maintenance"); err == nil {
		t.Fatal("Acquire succeeded although the vault cannot be opened")
	}
	h.fail.Store(false)
	// The failed open left no lease behind, and one open serves many
	// concurrent first leases.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := h.r.Acquire(ctx, testID, Shared, "")
			if err == nil {
				_, err = l.Vault().RecoveryPoints(ctx)
				l.Release()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := h.opens.Load(); n != 2 {
		t.Fatalf("open called %d times, want 2 (one failure, then one for all)", n)
	}
	if _, err := h.r.Acquire(ctx, testID, Mode(0), ""); err == nil {
		t.Fatal("Acquire accepted an invalid mode")
	}
}

func TestAdd(t *testing.T) {
	ctx := context.Background()
	v := createVault(t)
	r := New(func(context.Context, string) (*vault.Vault, error) {
		return nil, errors.New("an added vault must not be opened again")
	}, Options{KeepIdle: 1})
	defer r.Close(ctx)
	if err := r.Add(ctx, testID, v); err != nil {
		t.Fatal(err)
	}
	l, err := r.TryAcquire(ctx, testID, Shared, "")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if l.Vault() != v {
		t.Fatal("the lease holds another vault than the added one")
	}
}

// idleHarness is a registry over vaults of their own, each opened from
// its directory on every open, as the service's are.
type idleHarness struct {
	r     *Registry
	dirs  map[string]string
	opens map[string]*atomic.Int32
	mu    sync.Mutex
	open  map[*vault.Vault]bool // vaults the OpenFunc returned and nothing closed yet
}

func newIdleHarness(t *testing.T, keepIdle int, ids ...string) *idleHarness {
	t.Helper()
	h := &idleHarness{dirs: map[string]string{}, opens: map[string]*atomic.Int32{}, open: map[*vault.Vault]bool{}}
	for _, id := range ids {
		dir := filepath.Join(t.TempDir(), id)
		v, err := vault.Create(context.Background(), dir, testSecret, vault.Options{})
		if err != nil {
			t.Fatalf("create vault %s: %v", id, err)
		}
		if err := v.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		h.dirs[id], h.opens[id] = dir, &atomic.Int32{}
	}
	h.r = New(func(ctx context.Context, id string) (*vault.Vault, error) {
		h.opens[id].Add(1)
		v, err := vault.Open(ctx, h.dirs[id], testSecret, vault.Options{})
		if err == nil {
			h.mu.Lock()
			h.open[v] = true
			h.mu.Unlock()
		}
		return v, err
	}, Options{KeepIdle: keepIdle})
	t.Cleanup(func() {
		if err := h.r.Close(context.Background()); err != nil {
			t.Errorf("close registry: %v", err)
		}
	})
	return h
}

// use takes id's lease, reads from the vault and gives the lease back.
func (h *idleHarness) use(ctx context.Context, id string, mode Mode) error {
	l, err := h.r.Acquire(ctx, id, mode, "test")
	if err != nil {
		return err
	}
	defer l.Release()
	_, err = l.Vault().RecoveryPoints(ctx)
	return err
}

// stillOpen reports whether v answers (a closed vault fails every call).
func stillOpen(ctx context.Context, v *vault.Vault) bool {
	_, err := v.RecoveryPoints(ctx)
	return err == nil
}

func TestKeepIdle(t *testing.T) {
	ctx := context.Background()
	ids := []string{"a", "b", "c"}
	for _, tc := range []struct {
		keepIdle  int
		use       []string // in order, each leased, read and released
		wantOpens map[string]int32
	}{
		// The last released stays open; reusing it opens nothing.
		{keepIdle: 1, use: []string{"a", "a", "b", "b", "a"}, wantOpens: map[string]int32{"a": 2, "b": 1}},
		// Two idle: a, b, c, then a again (evicted by c), then b (evicted by a).
		{keepIdle: 2, use: []string{"a", "b", "c", "a", "b", "c"}, wantOpens: map[string]int32{"a": 2, "b": 2, "c": 2}},
		{keepIdle: 2, use: []string{"a", "b", "a", "b", "a"}, wantOpens: map[string]int32{"a": 1, "b": 1}},
		// None idle: every lease opens.
		{keepIdle: 0, use: []string{"a", "a", "b"}, wantOpens: map[string]int32{"a": 2, "b": 1}},
		// Unbounded: each opened once.
		{keepIdle: -1, use: []string{"a", "b", "c", "a", "b", "c"}, wantOpens: map[string]int32{"a": 1, "b": 1, "c": 1}},
	} {
		t.Run(fmt.Sprintf("keep%d/%v", tc.keepIdle, tc.use), func(t *testing.T) {
			h := newIdleHarness(t, tc.keepIdle, ids...)
			for i, id := range tc.use {
				mode := Shared
				if i%2 == 1 {
					mode = Exclusive // either mode's release idles the vault
				}
				if err := h.use(ctx, id, mode); err != nil {
					t.Fatalf("use %d (%s): %v", i, id, err)
				}
			}
			for _, id := range ids {
				if got := h.opens[id].Load(); got != tc.wantOpens[id] {
					t.Errorf("vault %s opened %d times, want %d", id, got, tc.wantOpens[id])
				}
			}
			// What is still open is at most keepIdle vaults (every open
			// vault the OpenFunc made but the registry has not closed).
			h.mu.Lock()
			defer h.mu.Unlock()
			n := 0
			for v := range h.open {
				if stillOpen(ctx, v) {
					n++
				}
			}
			if want := min(len(tc.wantOpens), tc.keepIdle); tc.keepIdle >= 0 && n != want {
				t.Errorf("%d vaults open after the uses, want %d", n, want)
			}
		})
	}
}

// A leased vault is never closed for being idle, however many vaults are
// released around it; and a vault closed while idle opens again on its
// next lease.
func TestKeepIdleSparesLeased(t *testing.T) {
	ctx := context.Background()
	h := newIdleHarness(t, 0, "a", "b")
	held, err := h.r.Acquire(ctx, "a", Shared, "")
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := h.use(ctx, "b", Shared); err != nil {
			t.Fatal(err)
		}
		if err := h.use(ctx, "a", Shared); err != nil { // a second shared lease, released
			t.Fatal(err)
		}
	}
	if !stillOpen(ctx, held.Vault()) {
		t.Fatal("a vault was closed while a lease held it")
	}
	if n := h.opens["a"].Load(); n != 1 {
		t.Fatalf("vault a opened %d times while held, want 1", n)
	}
	v := held.Vault()
	held.Release()
	if stillOpen(ctx, v) {
		t.Fatal("KeepIdle 0 left a released vault open")
	}
	if err := h.use(ctx, "a", Shared); err != nil {
		t.Fatalf("use after the idle close: %v", err)
	}
	if n := h.opens["a"].Load(); n != 2 {
		t.Fatalf("vault a opened %d times, want 2", n)
	}
}

// Leases of two vaults taken and released from many goroutines with no
// vault kept idle: every close races the next open, and no use may fail
// (run with -race).
func TestKeepIdleChurn(t *testing.T) {
	ctx := context.Background()
	h := newIdleHarness(t, 0, "a", "b")
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 8 {
				id, mode := "a", Shared
				if (g+i)%2 == 1 {
					id = "b"
				}
				if i%4 == 3 {
					mode = Exclusive
				}
				if err := h.use(ctx, id, mode); err != nil {
					errs <- fmt.Errorf("goroutine %d use %d (%s): %w", g, i, id, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if h.opens["a"].Load() < 2 || h.opens["b"].Load() < 2 {
		t.Fatalf("opens a=%d b=%d: the idle vaults were not closed", h.opens["a"].Load(), h.opens["b"].Load())
	}
}
