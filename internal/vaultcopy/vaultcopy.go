package vaultcopy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cofferbackup/coffer/internal/clock"
	"github.com/cofferbackup/coffer/internal/jobreport"
	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/vault"
)

// Options describe one copy.
type Options struct {
	// Source is the recovery point copied, a manifest of the source vault.
	Source recpoint.Manifest
	// SourceVaultARN is recorded in the copy's manifest.
	SourceVaultARN string
	// JobID, VaultName, RecoveryPointID and RecoveryPointARN name the copy
	// job and the new recovery point in the destination vault.
	JobID, VaultName, RecoveryPointID, RecoveryPointARN string
	// DeleteAfterDays is the copy's own retention; 0 keeps it forever.
	DeleteAfterDays int64
	// Previous is the destination's newest recovery point of the same
	// resource: versions it holds are referenced, not read again. nil
	// copies everything.
	Previous *recpoint.Manifest
	// Clock stamps the manifest; default the wall clock.
	Clock clock.Clock
	// Parallelism is the number of versions copied at once; default
	// DefaultParallelism.
	Parallelism int
	// Records, if set, opens the source's record stream instead of the
	// object Source.Records: a continuous recovery point's state at a
	// time (capturelog.WriteStateAt), copied as a snapshot.
	Records func(ctx context.Context) (io.ReadCloser, error)
}

// DefaultParallelism is the number of versions copied at once when
// Options.Parallelism is not set.
const DefaultParallelism = 8

// Stats are a copy's counters. BytesRead counts the bytes read from the
// source vault (the versions copied); Referenced the versions the
// destination already held.
type Stats struct {
	Records                            int64
	ObjectsCopied, BytesRead           int64
	ObjectsReferenced, BytesReferenced int64
	DeleteMarkers                      int64
}

type counters struct {
	records, objectsCopied, bytesRead, objectsReferenced, bytesReferenced, deleteMarkers atomic.Int64
}

func (c *counters) snapshot() Stats {
	return Stats{Records: c.records.Load(), ObjectsCopied: c.objectsCopied.Load(), BytesRead: c.bytesRead.Load(),
		ObjectsReferenced: c.objectsReferenced.Load(), BytesReferenced: c.bytesReferenced.Load(), DeleteMarkers: c.deleteMarkers.Load()}
}

// Result is what a successful copy produced.
type Result struct {
	Manifest recpoint.Manifest
	Stats    Stats
}

// Run copies opts.Source from src into dst and registers the copy there;
// progress (if not nil) gets the counters twice a second. On any error
// nothing is registered: the destination's session is aborted.
func Run(ctx context.Context, src, dst *vault.Vault, opts Options, progress func(Stats)) (Result, error) {
	if opts.Source.Records == "" && opts.Records == nil {
		return Result{}, errors.New("copy: the source recovery point has no record stream")
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	created := opts.Clock.Now()
	vw, err := dst.NewWriter(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("copy: open the destination vault's writer: %w", err)
	}
	c := &copier{src: src, dst: dst, vw: vw, opts: opts}
	stop := jobreport.StartProgress(c.stats.snapshot, progress)
	m, err := c.run(ctx, created)
	stop()
	if err != nil {
		if aerr := vw.Abort(context.WithoutCancel(ctx)); aerr != nil {
			err = fmt.Errorf("%w (and abort failed: %v)", err, aerr)
		}
		return Result{}, fmt.Errorf("copy of recovery point %s: %w", opts.Source.ARN, err)
	}
	return Result{Manifest: m, Stats: c.stats.snapshot()}, nil
}

type copier struct {
	src, dst *vault.Vault
	vw       *vault.Writer
	opts     Options
	stats    counters
}

// run streams the source's records into the destination's new record
// stream, copying or referencing each version's data, then registers the
// recovery point and commits the session.
func (c *copier) run(ctx context.Context, created time.Time) (recpoint.Manifest, error) {
	var rc io.ReadCloser
	var err error
	if c.opts.Records != nil {
		rc, err = c.opts.Records(ctx)
	} else {
		rc, err = c.src.OpenObject(ctx, vault.ObjectID(c.opts.Source.Records))
	}
	if err != nil {
		return recpoint.Manifest{}, fmt.Errorf("open the source record stream: %w", err)
	}
	defer rc.Close() //nolint:errcheck // read only
	rd, err := recpoint.NewReader(rc)
	if err != nil {
		return recpoint.Manifest{}, fmt.Errorf("source record stream: %w", err)
	}
	prev := c.openPrevious(ctx)
	defer prev.close()
	out, err := c.stream(ctx, rd, prev)
	if err != nil {
		return recpoint.Manifest{}, err
	}
	if err := ctx.Err(); err != nil {
		return recpoint.Manifest{}, err
	}
	m := c.manifest(out, created)
	if err := c.vw.PutRecoveryPoint(ctx, m); err != nil {
		return recpoint.Manifest{}, fmt.Errorf("register the copy: %w", err)
	}
	if err := c.vw.Commit(ctx); err != nil {
		return recpoint.Manifest{}, fmt.Errorf("commit the destination vault: %w", err)
	}
	return m, nil
}

// output is what the stream wrote.
type output struct {
	records                  vault.ObjectID
	recordCount, objectCount int64
	totalBytes               int64
}

// stream writes the copied records, in the source's order, into a record
// stream piped into the destination session. The versions to copy are
// copied by a pool of workers; records wait for their data in a window of
// bounded size, so memory does not grow with the recovery point.
func (c *copier) stream(ctx context.Context, rd *recpoint.Reader, prev *previous) (output, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var out output
	pr, pw := io.Pipe()
	type stored struct {
		id  vault.ObjectID
		err error
	}
	res := make(chan stored, 1)
	go func() {
		id, _, err := c.vw.WriteObject(ctx, pr)
		_ = pr.CloseWithError(errors.Join(err, errors.New("vault stopped reading the record stream")))
		res <- stored{id, err}
	}()
	fail := func(err error) (output, error) {
		_ = pw.CloseWithError(err)
		<-res
		return out, err
	}
	w, err := recpoint.NewWriter(pw)
	if err != nil {
		return fail(fmt.Errorf("record stream: %w", err))
	}
	work := make(chan *item)
	ordered := make(chan *item, c.window())
	var wg sync.WaitGroup
	for range c.parallelism() {
		wg.Go(func() {
			for it := range work {
				it.done <- c.copyOne(ctx, &it.rec)
			}
		})
	}
	emitted := make(chan error, 1)
	go func() {
		err := c.emit(w, ordered, &out)
		if err != nil {
			cancel(err)
		}
		emitted <- err
	}()
	feedErr := c.feed(ctx, rd, prev, work, ordered)
	if feedErr != nil {
		cancel(feedErr)
	}
	close(work)
	close(ordered)
	wg.Wait()
	emitErr := <-emitted
	switch {
	case emitErr != nil:
		return fail(emitErr)
	case feedErr != nil:
		return fail(feedErr)
	}
	if err := context.Cause(ctx); err != nil {
		return fail(err)
	}
	if err := w.Flush(); err != nil {
		return fail(fmt.Errorf("record stream: %w", err))
	}
	_ = pw.Close()
	r := <-res
	if r.err != nil {
		return out, fmt.Errorf("store the record stream: %w", r.err)
	}
	out.records = r.id
	return out, nil
}

// item is one record on its way to the new stream; done (nil when there
// is nothing to copy) says when its data is in the destination.
type item struct {
	rec  recpoint.Record
	done chan error
}

// feed reads the source records in order, references the versions the
// destination holds and hands the others to the workers.
func (c *copier) feed(ctx context.Context, rd *recpoint.Reader, prev *previous, work, ordered chan<- *item) error {
	for {
		it := &item{}
		err := rd.Next(&it.rec)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("source record stream: %w", err)
		}
		copyIt := c.reference(&it.rec, prev)
		if copyIt {
			it.done = make(chan error, 1)
		}
		select {
		case ordered <- it:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		if !copyIt {
			continue
		}
		select {
		case work <- it:
		case <-ctx.Done():
			it.done <- context.Cause(ctx)
			return context.Cause(ctx)
		}
	}
}

// emit writes the records in order once their data is copied.
func (c *copier) emit(w *recpoint.Writer, ordered <-chan *item, out *output) error {
	for it := range ordered {
		if it.done != nil {
			if err := <-it.done; err != nil {
				return err
			}
		}
		if err := w.Write(&it.rec); err != nil {
			return fmt.Errorf("record stream: %w", err)
		}
		out.recordCount++
		c.stats.records.Add(1)
		if !it.rec.DeleteMarker {
			out.objectCount++
			out.totalBytes += it.rec.Size
		}
	}
	return nil
}

// reference points rec.Data at the previous copy's object when the
// destination holds the same version, and reports whether the version's
// data must be copied instead.
func (c *copier) reference(rec *recpoint.Record, prev *previous) bool {
	if rec.DeleteMarker {
		c.stats.deleteMarkers.Add(1)
		return false
	}
	if rec.Data == "" {
		return false // zero bytes
	}
	if p := prev.find(rec); p != nil {
		rec.Data = p.Data
		c.stats.objectsReferenced.Add(1)
		c.stats.bytesReferenced.Add(rec.Size)
		return false
	}
	return true
}

// copyOne writes the version's data from the source into the destination
// and points rec.Data at the new object.
func (c *copier) copyOne(ctx context.Context, rec *recpoint.Record) error {
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	rc, err := c.src.OpenObject(ctx, vault.ObjectID(rec.Data))
	if err != nil {
		return fmt.Errorf("read a version from the source vault: %w", err)
	}
	defer rc.Close() //nolint:errcheck // read only
	id, n, err := c.vw.WriteObject(ctx, rc)
	c.stats.bytesRead.Add(n)
	if err != nil {
		return fmt.Errorf("write a version into the destination vault: %w", err)
	}
	if n != rec.Size {
		return fmt.Errorf("a version in the source vault has %d bytes, its record says %d", n, rec.Size)
	}
	rec.Data = string(id)
	c.stats.objectsCopied.Add(1)
	return nil
}

func (c *copier) parallelism() int {
	if c.opts.Parallelism > 0 {
		return c.opts.Parallelism
	}
	return DefaultParallelism
}

// window bounds the records waiting for their data.
func (c *copier) window() int { return 4 * c.parallelism() }

// manifest describes the copy: the source's description of the bucket,
// with the copy's own identity, lifecycle and provenance.
func (c *copier) manifest(out output, created time.Time) recpoint.Manifest {
	o := c.opts
	m := o.Source
	m.ID, m.ARN, m.VaultName = o.RecoveryPointID, o.RecoveryPointARN, o.VaultName
	m.CreatedAt, m.CompletedAt = created, o.Clock.Now()
	m.DeleteAfterDays = o.DeleteAfterDays
	m.Records, m.RecordCount, m.ObjectCount, m.TotalBytes = string(out.records), out.recordCount, out.objectCount, out.totalBytes
	m.SourceBackupVaultARN, m.SourceRecoveryPointARN, m.CopyJobID = o.SourceVaultARN, o.Source.ARN, o.JobID
	m.Tags = maps.Clone(o.Source.Tags)
	return m
}
