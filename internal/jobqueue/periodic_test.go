package jobqueue

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestPeriodicRunsOnceAcrossQueues: periodic work of two Queues on one
// database runs about once per interval (not once per Queue), and a run
// that never ends (as one held by a process that died) does not stop the
// runs of later intervals.
func TestPeriodicRunsOnceAcrossQueues(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *testDB) {
		var mu sync.Mutex
		var starts []time.Time
		stuck := make(chan struct{})
		tick := func(ctx context.Context) error {
			mu.Lock()
			first := len(starts) == 0
			starts = append(starts, time.Now())
			mu.Unlock()
			if first {
				select { // stuck until the test ends
				case <-stuck:
				case <-ctx.Done():
				}
			}
			return nil
		}
		const every = time.Second
		cfg := func() Config {
			return Config{Kinds: newRecorder().handlers(nil), PollInterval: 100 * time.Millisecond,
				Periodic: []Periodic{{Name: "tick", Every: every, Run: tick, Timeout: time.Minute}}}
		}
		a, b := d.open(t, cfg()), d.open(t, cfg())
		start(t, a)
		start(t, b)
		t.Cleanup(func() { close(stuck) }) // before the Queues stop
		deadline := time.Now().Add(40 * time.Second)
		for {
			mu.Lock()
			n := len(starts)
			var span time.Duration
			if n > 0 {
				span = starts[n-1].Sub(starts[0])
			}
			mu.Unlock()
			if n >= 4 {
				// Once per interval across both Queues: n runs span at
				// least n-2 intervals (the first two may share one).
				if span < time.Duration(n-2)*every-200*time.Millisecond {
					t.Fatalf("%d runs in %v: more than one per %v interval", n, span, every)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d periodic runs in 40 s, want at least 4 while the first stays stuck", n)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}
