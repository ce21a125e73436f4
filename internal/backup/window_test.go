package backup_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/backup"
	bt "github.com/cofferbackup/coffer/internal/backup/backuptest"
	"github.com/cofferbackup/coffer/internal/testserver"
)

// TestWindowBoundsMemory guards the engine's memory bound: however many
// objects the bucket holds, at most the window's worth of versions is in
// flight (listed, not yet emitted), even when one object's read stalls and
// the others finish out of order behind it.
func TestWindowBoundsMemory(t *testing.T) {
	t.Parallel()
	const objects, window = 3000, 8
	srv := testserver.Shared(t, testserver.MinIO)
	bucket := bt.Fill(t, srv, objects, 16)
	proxy := bt.NewProxy(t, srv.Endpoint)
	var stalled atomic.Bool
	proxy.OnObjectRead(func(_, key string) {
		// The first read of an early object stalls: the lister and the
		// other workers run ahead of the emitter until the window is full.
		if key == "dir10/obj-00010" && stalled.CompareAndSwap(false, true) {
			time.Sleep(time.Second)
		}
	})
	opts := bt.Options(bucket, nil)
	opts.Parallelism = 4
	backup.SetWindow(&opts, window)
	res, err := backup.Run(context.Background(), bt.Source(t, srv, proxy.URL), bt.Vault(t), opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Manifest.ObjectCount != objects || !stalled.Load() {
		t.Fatalf("backed up %d objects (want %d), stalled %v", res.Manifest.ObjectCount, objects, stalled.Load())
	}
	inFlight, pending := backup.FlowMarks(res)
	t.Logf("window %d: at most %d versions in flight, %d waiting to be emitted", window, inFlight, pending)
	if inFlight > window || pending > window {
		t.Errorf("in flight %d, waiting %d: more than the window of %d", inFlight, pending, window)
	}
	// The stall must have filled the window, or this test guards nothing.
	if pending < int64(window-opts.Parallelism) {
		t.Errorf("only %d versions waited behind the stalled one; the window was never full", pending)
	}
}
