package vault

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestMaintainWaitsForWriter checks the in-process half of the Maintain
// contract: Maintain does not run while a write session is open.
func TestMaintainWaitsForWriter(t *testing.T) {
	t.Parallel()

	v := createVault(t, t.TempDir())
	defer closeVault(t, v)

	ctx := testCtx(t)

	w, err := v.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}

	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()

	if _, err := v.Maintain(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Maintain with open writer = %v, want deadline exceeded", err)
	}

	// A waiting or failed Maintain does not block writers.
	w2, err := v.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}

	for _, w := range []*Writer{w, w2} {
		if err := w.Abort(ctx); err != nil {
			t.Fatal(err)
		}
	}

	if _, err := v.Maintain(ctx); err != nil {
		t.Fatalf("Maintain: %v", err)
	}
}

func TestGate(t *testing.T) {
	t.Parallel()

	var g gate

	ctx := context.Background()

	rel1, err := g.acquireShared(ctx)
	if err != nil {
		t.Fatal(err)
	}

	got := make(chan func(), 1)

	go func() {
		rel, err := g.acquireExclusive(ctx)
		if err != nil {
			t.Error(err)
		}
		got <- rel
	}()

	select {
	case <-got:
		t.Fatal("exclusive acquired while shared held")
	case <-time.After(100 * time.Millisecond):
	}

	// A waiting exclusive holder does not hold off new shared holders.
	rel2, err := g.acquireShared(ctx)
	if err != nil {
		t.Fatal(err)
	}

	rel1()
	rel1() // idempotent

	select {
	case <-got:
		t.Fatal("exclusive acquired while shared held")
	case <-time.After(100 * time.Millisecond):
	}

	rel2()

	relX := <-got

	// Shared holders wait while the exclusive hold is taken.
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()

	if _, err := g.acquireShared(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shared while exclusive held: %v", err)
	}

	if _, err := g.acquireExclusive(short); err == nil {
		t.Fatal("second exclusive hold")
	}

	relX()
	relX() // idempotent

	rel3, err := g.acquireShared(ctx)
	if err != nil {
		t.Fatal(err)
	}

	rel3()
}
