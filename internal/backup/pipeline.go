package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

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
}

// pipelineOutput is what the emitter wrote.
type pipelineOutput struct {
	records     vault.ObjectID
	recordCount int64
	objectCount int64
	totalBytes  int64
}

// windowPerWorker bounds the items in flight (listed but not yet emitted).
const windowPerWorker = 4

// pipeline lists, captures and emits every version of the bucket. It
// returns the first fatal error (listing, vault, cancellation).
func (j *job) pipeline(ctx context.Context, prev *previous) (pipelineOutput, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	window := make(chan struct{}, windowPerWorker*j.opts.Parallelism)
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
	err := j.src.ListVersions(ctx, j.opts.Bucket, func(v s3source.Version) error {
		it := &item{seq: seq, v: v}
		seq++
		it.prev = prev.find(&it.v)
		select {
		case window <- struct{}{}:
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
		for {
			it, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
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
