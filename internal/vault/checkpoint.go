package vault

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/kopia/kopia/repo/content"
)

// checkpointer counts what a write session wrote since its last checkpoint
// and commits the session's contents when a threshold is crossed.
//
// A checkpoint is kopia's content-manager flush: pending packs are
// written, the index entries of the session's contents are written as an
// index blob and dropped from memory. It deliberately bypasses the
// repository writer's Flush, which would also write pending manifests: a
// recovery point must become visible only at Commit.
type checkpointer struct {
	objects, bytes int64 // thresholds

	sinceObjects, sinceBytes atomic.Int64
	mu                       sync.Mutex // one checkpoint at a time
	count                    atomic.Int64
}

// wrote records an object of n bytes and checkpoints if a threshold is
// reached. Concurrent writers do not wait for a checkpoint another one is
// taking (kopia holds their new contents back while it flushes).
func (c *checkpointer) wrote(ctx context.Context, cm *content.WriteManager, n int64) error {
	objs, b := c.sinceObjects.Add(1), c.sinceBytes.Add(n)
	if objs < c.objects && b < c.bytes {
		return nil
	}

	if !c.mu.TryLock() {
		return nil
	}
	defer c.mu.Unlock()

	// Another writer may have just checkpointed.
	if c.sinceObjects.Load() < c.objects && c.sinceBytes.Load() < c.bytes {
		return nil
	}

	c.sinceObjects.Store(0)
	c.sinceBytes.Store(0)

	if err := cm.Flush(ctx); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}

	c.count.Add(1)

	return nil
}
