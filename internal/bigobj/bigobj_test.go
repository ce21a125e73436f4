package bigobj

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	t.Parallel()
	l := New(16)
	if l.Slots() < 2 || l.Slots() > 16 {
		t.Fatalf("%d slots for parallelism 16", l.Slots())
	}
	if New(1).Slots() != 1 {
		t.Fatalf("parallelism 1: %d slots", New(1).Slots())
	}
	ctx := context.Background()
	var releases []func()
	for range l.Slots() {
		r, err := l.Acquire(ctx, Threshold+1)
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, r)
	}
	// Small objects never wait, even with every slot taken.
	small, err := l.Acquire(ctx, Threshold)
	if err != nil {
		t.Fatal(err)
	}
	small()
	// A large one waits until a slot is given back...
	got := make(chan error, 1)
	go func() {
		r, err := l.Acquire(ctx, 1<<30)
		if err == nil {
			r()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("large object got a slot while all were taken (err %v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	releases[0]()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	// ...or its context ends.
	if _, err := l.Acquire(ctx, 1<<30); err != nil { // all slots taken again
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	r, err := l.Acquire(cctx, 1<<30)
	if !errors.Is(err, context.Canceled) || r != nil {
		t.Fatalf("Acquire with a cancelled context and no free slot = %v", err)
	}
}
