package jobreport

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLog(t *testing.T) {
	t.Parallel()
	l := Log{Max: 3}
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() { l.Fail(fmt.Sprint("k", i), "v", errors.New("boom")) })
	}
	wg.Wait()
	if f := l.Failures(); len(f) != 3 || f[0].Reason != "boom" || f[0].VersionID != "v" {
		t.Fatalf("failures %+v, want the first 3 of 10", f)
	}
	l.Note("a")
	l.NoteOnce("acl", "b")
	l.NoteOnce("acl", "c")
	l.NoteOnce("tags", "d")
	if n := fmt.Sprint(l.Notes()); n != "[a b d]" {
		t.Fatalf("notes %s, want [a b d]", n)
	}
}

func TestStartProgress(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	var reports []int64
	var mu sync.Mutex
	stop := StartProgress(func() int64 { return n.Add(1) }, func(v int64) {
		mu.Lock()
		reports = append(reports, v)
		mu.Unlock()
	})
	time.Sleep(progressInterval + progressInterval/2)
	stop()
	mu.Lock()
	defer mu.Unlock()
	// One tick, then the final report with the latest snapshot.
	if len(reports) < 2 || reports[len(reports)-1] != n.Load() {
		t.Fatalf("reports %v, last snapshot %d", reports, n.Load())
	}
	StartProgress(func() int { return 0 }, nil)() // nil report: no goroutine, no panic
}
