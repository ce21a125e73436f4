package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/kopia/kopia/repo"
	"github.com/kopia/kopia/repo/compression"
	"github.com/kopia/kopia/repo/content"
	"github.com/kopia/kopia/repo/object"

	"github.com/cofferbackup/coffer/internal/chunking"
	"github.com/cofferbackup/coffer/internal/recpoint"
)

const (
	// compressor compresses object data (when its sample compresses, see
	// compressorFor) and metadata before encryption; chunks it does not
	// shrink are stored as they are.
	compressor compression.Name = "zstd-fastest"

	// asyncWrites lets one object's chunks be hashed, compressed,
	// encrypted and packed in parallel with splitting the next ones.
	asyncWrites = 2

	// copyBufferSize is the pooled buffer one WriteObject copies through.
	// The object writer buffers whole chunks itself, so a larger buffer
	// only costs memory: parallelism x 1 MiB was 17 MiB of a backup's heap.
	copyBufferSize = 128 << 10

	// A session commits its new contents' index entries (a checkpoint, see
	// Writer) after this many objects or bytes: kopia keeps the entry of
	// every content written in a session in memory until it is flushed,
	// about 250 bytes per content, which made a backup's memory grow with
	// the bucket. 10,000 objects bound that to a few MiB while adding only
	// one small index blob per 10,000 objects (compacted by Maintain).
	defaultCheckpointObjects = 10_000
	defaultCheckpointBytes   = 1 << 30
)

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, copyBufferSize); return &b }}

// Writer is a write session. No recovery point it registers is visible to
// readers or survives a crash until Commit returns.
//
// More precisely: recovery points registered with PutRecoveryPoint become
// visible atomically at Commit, and nothing else makes them visible. Object
// data, on the other hand, is checkpointed: the session's contents are
// committed to the repository's index every Options.CheckpointObjects
// objects or Options.CheckpointBytes bytes (and by kopia itself when a
// session runs longer than 10 minutes), so that memory does not grow with
// the number of objects written and a retried backup deduplicates against
// what an interrupted one stored. A checkpoint flushes contents only, never
// manifests; until a committed recovery point references checkpointed data
// it is unreachable and the next Maintain deletes it.
//
// A Writer holds off Maintain until it is committed or aborted, so every
// Writer must be finished with Commit or Abort.
type Writer struct {
	v       *Vault
	w       repo.DirectRepositoryWriter
	release func() // releases the gate hold

	mu   sync.RWMutex // shared by writes, exclusive by Commit/Abort
	done bool

	checkpoint checkpointer
}

// NewWriter starts a write session. It waits while Maintain runs.
func (v *Vault) NewWriter(ctx context.Context) (*Writer, error) {
	w, err := v.newWriter(ctx)
	if err != nil {
		return nil, fmt.Errorf("vault %q: new writer: %w", v.dir, err)
	}

	return w, nil
}

func (v *Vault) newWriter(ctx context.Context) (*Writer, error) {
	release, err := v.gate.acquireShared(ctx)
	if err != nil {
		return nil, err
	}

	done, err := v.use()
	if err != nil {
		release()
		return nil, err
	}
	defer done()

	_, rw, err := v.rep.NewDirectWriter(ctx, repo.WriteSessionOptions{Purpose: "coffer-backup"})
	if err != nil {
		release()
		return nil, err
	}

	w := &Writer{v: v, w: rw, release: release}
	w.checkpoint.objects, w.checkpoint.bytes = v.opts.checkpointLimits()

	return w, nil
}

// begin takes a shared hold on the session for one write operation.
func (w *Writer) begin() error {
	w.mu.RLock()
	if w.done {
		w.mu.RUnlock()
		return errClosed
	}

	return nil
}

// WriteObject stores r's bytes and returns their id and length. Safe for
// concurrent use by several goroutines of one session.
//
// kopia's repository writer supports concurrent object writers (its
// content manager and object manager are internally locked); each call
// uses its own object writer, and data is streamed chunk by chunk.
func (w *Writer) WriteObject(ctx context.Context, r io.Reader) (ObjectID, int64, error) {
	return w.writeObject(ctx, r, "")
}

// writeObject is WriteObject with a kopia splitter; "" is the repository's.
func (w *Writer) writeObject(ctx context.Context, r io.Reader, splitter string) (ObjectID, int64, error) {
	if err := w.begin(); err != nil {
		return "", 0, fmt.Errorf("write object: %w", err)
	}
	defer w.mu.RUnlock()

	bp, _ := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bp)

	// The object's start decides its compression (see compressorFor).
	buf := *bp
	cr := ctxReader{ctx: ctx, r: r}

	head, whole, err := readSample(cr, buf[:sampleSize])
	if err != nil {
		return "", int64(head), fmt.Errorf("write object: %w", err)
	}

	opts := chunking.Options{
		Description:        "coffer-object",
		Compressor:         compressorFor(buf[:head]),
		MetadataCompressor: compressor,
		AsyncWrites:        asyncWrites,
	}
	if splitter == "" {
		splitter = w.w.ObjectFormat().Splitter
	}

	var rest io.Reader = cr
	if whole {
		rest = nil
	}

	oid, n, err := writeChunks(ctx, w.w, buf[:head], rest, splitter, opts, buf)
	if err != nil {
		return "", n, fmt.Errorf("write object: %w", err)
	}

	if err := w.checkpoint.wrote(ctx, w.w.ContentManager(), n); err != nil {
		return "", n, fmt.Errorf("write object: %w", err)
	}

	return ObjectID(oid.String()), n, nil
}

// writeChunks stores head and then rest (nil: none) as one object cut by
// the kopia splitter named: through package chunking, which cuts where
// kopia does at a fraction of its cost, or through kopia's object writer
// for the splitters chunking does not cover (vaults created with a
// Rabin-Karp splitter). buf is a copy buffer; it may hold head.
func writeChunks(ctx context.Context, rw repo.DirectRepositoryWriter, head []byte, rest io.Reader, splitter string, opts chunking.Options, buf []byte) (object.ID, int64, error) {
	if s, ok := chunking.ForKopia(splitter); ok {
		r := io.Reader(bytes.NewReader(head))
		if rest != nil {
			r = io.MultiReader(r, rest)
		}

		return chunking.Write(ctx, rw, r, s, opts)
	}

	ow := rw.NewObjectWriter(ctx, object.WriterOptions{
		Description:        opts.Description,
		Compressor:         opts.Compressor,
		MetadataCompressor: opts.MetadataCompressor,
		Splitter:           splitter,
		AsyncWrites:        opts.AsyncWrites,
	})
	defer ow.Close() //nolint:errcheck // Close of an object writer only releases buffers

	if _, err := ow.Write(head); err != nil {
		return object.EmptyID, 0, err
	}

	n := int64(len(head))
	if rest != nil {
		m, err := io.CopyBuffer(onlyWriter{ow}, rest, buf)
		n += m
		if err != nil {
			return object.EmptyID, n, err
		}
	}

	oid, err := ow.Result()
	return oid, n, err
}

// readSample fills sample from r and reports whether r ended (io.EOF)
// within it. Unlike io.ReadFull it passes on every error of r, an
// io.ErrUnexpectedEOF of a cut-off body included (the caller retries those).
func readSample(r io.Reader, sample []byte) (n int, whole bool, err error) {
	for n < len(sample) {
		m, err := r.Read(sample[n:])
		n += m
		if err == io.EOF { //nolint:errorlint // io.Reader's contract: EOF itself, never wrapped
			return n, true, nil
		}
		if err != nil {
			return n, false, err
		}
	}

	return n, false, nil
}

// onlyWriter hides any ReaderFrom of the wrapped writer so that
// io.CopyBuffer uses the pooled buffer.
type onlyWriter struct{ w io.Writer }

func (o onlyWriter) Write(p []byte) (int, error) { return o.w.Write(p) }

// ctxReader stops a copy when ctx is done.
type ctxReader struct {
	ctx context.Context //nolint:containedctx // scoped to one copy
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}

	return c.r.Read(p)
}

// PutRecoveryPoint registers m; m.Records must name an object written in
// this session or already in the vault. A recovery point with the same
// m.ID is replaced when the session commits.
func (w *Writer) PutRecoveryPoint(ctx context.Context, m recpoint.Manifest) error {
	if err := w.putRecoveryPoint(ctx, m); err != nil {
		return fmt.Errorf("put recovery point %q: %w", m.ID, err)
	}

	return nil
}

func (w *Writer) putRecoveryPoint(ctx context.Context, m recpoint.Manifest) error {
	if m.ID == "" {
		return errors.New("empty recovery point id")
	}

	if err := w.begin(); err != nil {
		return err
	}
	defer w.mu.RUnlock()

	oid, err := object.ParseID(m.Records)
	if err != nil {
		return fmt.Errorf("records object %q: %w", m.Records, err)
	}

	if _, err := w.w.VerifyObject(ctx, oid); err != nil {
		if isNotFound(err) {
			return fmt.Errorf("records object %q: %w: %w", m.Records, ErrNotFound, err)
		}

		return fmt.Errorf("records object %q: %w", m.Records, err)
	}

	old, err := w.w.FindManifests(ctx, rpLabels(m.ID))
	if err != nil {
		return fmt.Errorf("find manifests: %w", err)
	}

	if err := deleteManifests(ctx, w.w, old); err != nil {
		return fmt.Errorf("replace: %w", err)
	}

	if _, err := w.w.PutManifest(ctx, rpLabels(m.ID), m); err != nil {
		return fmt.Errorf("put manifest: %w", err)
	}

	return nil
}

// finish ends the session once; flush selects Commit over Abort.
func (w *Writer) finish(ctx context.Context, flush bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()

	if w.done {
		return errClosed
	}

	w.done = true
	defer w.release()

	var err error
	if flush {
		err = w.w.Flush(ctx)
	}

	if cerr := w.w.Close(ctx); cerr != nil && err == nil {
		err = cerr
	}

	return err
}

// Commit makes everything written in the session durable and visible.
// The session is finished afterwards, whether or not Commit succeeded.
func (w *Writer) Commit(ctx context.Context) error {
	if err := w.finish(ctx, true); err != nil {
		return fmt.Errorf("vault %q: commit: %w", w.v.dir, err)
	}

	return nil
}

// Abort discards the session. Aborting a finished session does nothing.
func (w *Writer) Abort(ctx context.Context) error {
	if err := w.finish(ctx, false); err != nil && !errors.Is(err, errClosed) {
		return fmt.Errorf("vault %q: abort: %w", w.v.dir, err)
	}

	return nil
}

func isNotFound(err error) bool {
	return errors.Is(err, object.ErrObjectNotFound) || errors.Is(err, content.ErrContentNotFound)
}
