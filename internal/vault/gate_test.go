package vault

import (
	"context"
	"errors"
	"testing"
	"time"
)

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
