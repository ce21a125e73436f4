package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/s3source"
	"github.com/cofferbackup/coffer/internal/vault"
)

// item is one listed version travelling through the pipeline.
type item struct {
	seq    int64
	v      s3source.Version
	prev   *recpoint.Record // same version in the previous recovery point
	rec    *recpoint.Record // result; nil if the version failed
	failed bool
	err    error // why it failed
}

// pipelineOutput is what the emitter wrote.
type pipelineOutput struct {
	records     vault.ObjectID
	recordCount int64
	objectCount int64
	totalBytes  int64
}

// windowPerWorker bounds the items in flight (listed but not yet emitted):
// with Parallelism workers, at most windowPerWorker*Parallelism items (and
// their records) are held, however many objects the bucket has.
const windowPerWorker = 4

// flowMarks are the pipeline's high-water marks: items listed and not yet
// emitted, and items captured out of order waiting in the emitter. Tests
// check them against the window, the bound on the engine's memory.
type flowMarks struct {
	inFlight, maxInFlight, maxPending atomic.Int64
}

// flowPeak is a copy of the high-water marks.
type flowPeak struct{ inFlight, pending int64 }

func (f *flowMarks) peak() flowPeak {
	return flowPeak{inFlight: f.maxInFlight.Load(), pending: f.maxPending.Load()}
}

// raise lifts mark to v if v is higher.
func raise(mark *atomic.Int64, v int64) {
	for {
		old := mark.Load()
		if v <= old || mark.CompareAndSwap(old, v) {
			return
		}
	}
}

// pipeline lists, captures and emits every version of the bucket. It
// returns the first fatal error (listing, vault, cancellation).
func (j *job) pipeline(ctx context.Context, prev *previous) (pipelineOutput, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	size := windowPerWorker * j.opts.Parallelism
	if j.opts.window > 0 {
		size = j.opts.window
	}
	window := make(chan struct{}, size)
	work := make(chan *item, j.opts.Parallelism)
	done := make(chan *item, j.opts.Parallelism)

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(work)
		if err := j.list(ctx, prev, window, work); err != nil {
			cancel(err)
		}
	}()
	var workers sync.WaitGroup
	for range j.opts.Parallelism {
		workers.Add(1)
		go func() {
			defer workers.Done()
			if err := j.work(ctx, work, done); err != nil {
				cancel(err)
			}
		}()
	}
	go func() {
		workers.Wait()
		close(done)
	}()

	out, err := j.emit(ctx, window, done)
	if err != nil {
		cancel(err)
	}
	wg.Wait()
	workers.Wait()
	if cause := context.Cause(ctx); cause != nil {
		return pipelineOutput{}, cause
	}
	return out, nil
}

// list streams the listing into work, numbering items in listing order.
func (j *job) list(ctx context.Context, prev *previous, window chan struct{}, work chan<- *item) error {
	var seq int64
	listFn := j.src.ListVersions
	if j.caps.MetadataListing && !j.carry {
		listFn = j.src.ListVersionsWithMetadata
	}
	err := listFn(ctx, j.opts.Bucket, func(v s3source.Version) error {
		if v.Listed {
			j.listed.Store(true)
		}
		it := &item{seq: seq, v: v}
		seq++
		it.prev = prev.find(&it.v)
		select {
		case window <- struct{}{}:
			raise(&j.flow.maxInFlight, j.flow.inFlight.Add(1))
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		select {
		case work <- it:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	})
	if err != nil {
		return fmt.Errorf("list versions: %w", err)
	}
	return nil
}

// work captures items until work is closed. Only fatal errors are returned.
func (j *job) work(ctx context.Context, work <-chan *item, done chan<- *item) error {
	for it := range work {
		if err := j.capture(ctx, it); err != nil {
			return err
		}
		select {
		case done <- it:
		case <-ctx.Done():
			return nil
		}
	}
	return nil
}

// emit writes the captured records in listing order into a record stream
// that is piped into the vault.
func (j *job) emit(ctx context.Context, window <-chan struct{}, done <-chan *item) (pipelineOutput, error) {
	var out pipelineOutput
	pr, pw := io.Pipe()
	type stored struct {
		id  vault.ObjectID
		err error
	}
	res := make(chan stored, 1)
	go func() {
		id, _, err := j.vw.WriteObject(ctx, pr)
		// Unblock the emitter should the vault stop reading early.
		if err != nil {
			_ = pr.CloseWithError(err)
		} else {
			_ = pr.CloseWithError(errors.New("vault stopped reading the record stream"))
		}
		res <- stored{id, err}
	}()
	// fail ends the stream with err, waits for the vault and returns err.
	fail := func(err error) (pipelineOutput, error) {
		_ = pw.CloseWithError(err)
		<-res
		return out, err
	}
	w, err := recpoint.NewWriter(pw)
	if err != nil {
		return fail(fmt.Errorf("record stream: %w", err))
	}
	pending := make(map[int64]*item)
	var next int64
	for it := range done {
		pending[it.seq] = it
		raise(&j.flow.maxPending, int64(len(pending)))
		for {
			it, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			j.flow.inFlight.Add(-1) // before the slot is free: never above the window
			<-window
			if err := j.emitOne(w, it, &out); err != nil {
				return fail(err)
			}
		}
	}
	if err := context.Cause(ctx); err != nil {
		return fail(err)
	}
	if len(pending) > 0 {
		return fail(fmt.Errorf("internal error: %d records not emitted", len(pending)))
	}
	if err := w.Flush(); err != nil {
		return fail(fmt.Errorf("record stream: %w", err))
	}
	_ = pw.Close()
	r := <-res
	if r.err != nil {
		return out, fmt.Errorf("store record stream: %w", r.err)
	}
	out.records = r.id
	return out, nil
}

func (j *job) emitOne(w *recpoint.Writer, it *item, out *pipelineOutput) error {
	if it.failed || it.rec == nil {
		return nil
	}
	if err := w.Write(it.rec); err != nil {
		return fmt.Errorf("record stream: %w", err)
	}
	out.recordCount++
	if !it.rec.DeleteMarker {
		out.objectCount++
		out.totalBytes += it.rec.Size
	}
	return nil
}
