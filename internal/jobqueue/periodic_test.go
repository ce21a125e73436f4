package jobqueue

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestPeriodicRunsOnceAcrossQueues: periodic work of two Queues on one
// database runs once per interval, never two runs at once, whichever
// Queue leads.
func TestPeriodicRunsOnceAcrossQueues(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *testDB) {
		var mu sync.Mutex
		runs, inFlight, maxInFlight := 0, 0, 0
		tick := func(ctx context.Context) error {
			mu.Lock()
			runs++
			inFlight++
			maxInFlight = max(maxInFlight, inFlight)
			mu.Unlock()
			select { // longer than the interval: the next run must wait
			case <-time.After(700 * time.Millisecond):
			case <-ctx.Done():
			}
			mu.Lock()
			inFlight--
			mu.Unlock()
			return nil
		}
		cfg := func() Config {
			return Config{Kinds: newRecorder().handlers(nil), PollInterval: 100 * time.Millisecond,
				Periodic: []Periodic{{Name: "tick", Every: 200 * time.Millisecond, Run: tick}}}
		}
		a, b := d.open(t, cfg()), d.open(t, cfg())
		start(t, a)
		start(t, b)
		deadline := time.Now().Add(30 * time.Second)
		for {
			mu.Lock()
			n, most := runs, maxInFlight
			mu.Unlock()
			if most > 1 {
				t.Fatalf("%d periodic runs at once, want 1", most)
			}
			if n >= 3 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d periodic runs in 30 s, want at least 3", n)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}
