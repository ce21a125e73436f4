package chunking

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/kopia/kopia/repo/compression"
	"github.com/kopia/kopia/repo/object"
	"github.com/kopia/kopia/repo/splitter"
)

// readStep is how much one read adds to the chunk being cut: the bytes
// read past a boundary are copied to the next chunk's buffer, so a small
// step copies little; a large one makes fewer calls.
const readStep = 256 << 10

// ObjectWriters opens kopia object writers (repo.DirectRepositoryWriter
// does).
type ObjectWriters interface {
	NewObjectWriter(ctx context.Context, opt object.WriterOptions) object.Writer
}

// Options are how Write stores an object's chunks, as for kopia's object
// writer.
type Options struct {
	Description        string
	Compressor         compression.Name
	MetadataCompressor compression.Name
	// AsyncWrites is how many chunks are stored while the next is read
	// and cut (kopia's AsyncWrites); 0 stores each before reading on.
	AsyncWrites int
}

// Write stores r as a kopia object cut by s and returns its id and
// length. The object is the one kopia's own object writer with the
// splitter named KopiaName(s) stores: the same contents and the same
// index object, so the same object id (TestWriteMatchesKopia). It differs
// in how it gets there: each chunk is cut from a buffer of its own and
// handed whole to a writer that does not split it, which saves kopia's
// two copies of every byte and its slower splitter.
func Write(ctx context.Context, ws ObjectWriters, r io.Reader, s Splitter, opts Options) (object.ID, int64, error) {
	whole := fixedName(s.MaxSize())
	if splitter.GetFactory(whole) == nil {
		return object.EmptyID, 0, fmt.Errorf("chunks of %d bytes: kopia has no splitter %s", s.MaxSize(), whole)
	}

	cw := chunkWriter{ctx: ctx, ws: ws, whole: whole, opts: opts, sem: make(chan struct{}, max(opts.AsyncWrites, 1))}
	n, err := cw.cutAll(r, s)
	cw.wg.Wait()

	if err == nil {
		err = cw.err
	}
	if err != nil {
		return object.EmptyID, n, err
	}

	id, err := cw.result()
	return id, n, err
}

// fixedName is kopia's fixed splitter of n bytes: it never cuts a chunk
// of at most n bytes.
func fixedName(n int) string { return KopiaName(Fixed{Size: n}) }

var buffers sync.Map // chunk size -> *sync.Pool of *[]byte

func getBuffer(size int) *[]byte {
	p, _ := buffers.LoadOrStore(size, &sync.Pool{New: func() any { b := make([]byte, size); return &b }})
	b, _ := p.(*sync.Pool).Get().(*[]byte)

	return b
}

func putBuffer(b *[]byte) {
	if p, ok := buffers.Load(cap(*b)); ok {
		p.(*sync.Pool).Put(b)
	}
}

type chunkWriter struct {
	ctx   context.Context
	ws    ObjectWriters
	whole string // kopia's splitter that keeps a chunk whole
	opts  Options

	sem chan struct{} // chunks being stored
	wg  sync.WaitGroup

	mu      sync.Mutex
	entries []object.IndirectObjectEntry
	err     error
}

// cutAll reads r to its end, handing each chunk to store. A chunk starts
// in a buffer of one read step and moves to one of the splitter's maximum
// when it outgrows it, so that small objects written side by side do not
// each hold a buffer of the largest chunk; once an object has had a large
// chunk its next ones start in large buffers.
func (w *chunkWriter) cutAll(r io.Reader, s Splitter) (int64, error) {
	size := min(readStep, s.MaxSize())
	buf := getBuffer(size)
	n, scanned, total, chunks := 0, 0, int64(0), 0

	for {
		if n == len(*buf) { // a chunk of that size would have been cut
			larger := getBuffer(s.MaxSize())
			copy(*larger, (*buf)[:n])
			putBuffer(buf)
			buf, size = larger, s.MaxSize()
		}

		m, rerr := fill(r, (*buf)[n:min(n+readStep, len(*buf))])
		n += m
		total += int64(m)
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			putBuffer(buf)
			return total, rerr
		}

		for {
			c := s.Cut((*buf)[:n], scanned)
			if c < 0 {
				scanned = n
				break
			}

			next := getBuffer(size)
			copy(*next, (*buf)[c:n])
			w.store(buf, c, total-int64(n))
			buf, n, scanned = next, n-c, 0
			chunks++
		}

		if rerr != nil { // io.EOF
			if n > 0 || chunks == 0 {
				w.store(buf, n, total-int64(n))
			} else {
				putBuffer(buf)
			}

			return total, nil
		}
	}
}

// fill reads into p until it is full or r ends (io.EOF, also when
// r ended exactly at the end of p and says so only on the next read).
func fill(r io.Reader, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := r.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
	}

	return n, nil
}

// store writes (*buf)[:length], which starts at offset start of the
// object, as one content, in the background when AsyncWrites allows, and
// returns buf to its pool when done.
func (w *chunkWriter) store(buf *[]byte, length int, start int64) {
	w.mu.Lock()
	i := len(w.entries)
	w.entries = append(w.entries, object.IndirectObjectEntry{Start: start, Length: int64(length)})
	w.mu.Unlock()

	w.sem <- struct{}{}
	w.wg.Add(1)
	write := func() {
		defer func() { putBuffer(buf); <-w.sem; w.wg.Done() }()

		id, err := w.writeChunk((*buf)[:length])

		w.mu.Lock()
		defer w.mu.Unlock()
		if err != nil && w.err == nil {
			w.err = err
		}
		w.entries[i].Object = id
	}

	if w.opts.AsyncWrites == 0 {
		write()
		return
	}
	go write()
}

func (w *chunkWriter) writeChunk(chunk []byte) (object.ID, error) {
	ow := w.ws.NewObjectWriter(w.ctx, object.WriterOptions{
		Description:        w.opts.Description,
		Compressor:         w.opts.Compressor,
		MetadataCompressor: w.opts.MetadataCompressor,
		Splitter:           w.whole,
	})
	defer ow.Close() //nolint:errcheck // Close of an object writer only releases buffers

	if _, err := ow.Write(chunk); err != nil {
		return object.EmptyID, fmt.Errorf("write chunk: %w", err)
	}

	id, err := ow.Result()
	if err != nil {
		return object.EmptyID, fmt.Errorf("write chunk: %w", err)
	}

	return id, nil
}

// result is the object of the stored chunks: the chunk itself if there is
// one, else an index object listing them, as kopia writes it.
func (w *chunkWriter) result() (object.ID, error) {
	if len(w.entries) == 1 {
		return w.entries[0].Object, nil
	}

	iw := w.ws.NewObjectWriter(w.ctx, object.WriterOptions{
		Description:        "LIST(" + w.opts.Description + ")",
		Prefix:             indexPrefix,
		Compressor:         w.opts.MetadataCompressor,
		MetadataCompressor: w.opts.MetadataCompressor,
	})
	defer iw.Close() //nolint:errcheck // as above

	index := struct {
		StreamID string                       `json:"stream"`
		Entries  []object.IndirectObjectEntry `json:"entries"`
	}{"kopia:indirect", w.entries}

	if err := json.NewEncoder(iw).Encode(index); err != nil {
		return object.EmptyID, fmt.Errorf("write object index: %w", err)
	}

	id, err := iw.Result()
	if err != nil {
		return object.EmptyID, fmt.Errorf("write object index: %w", err)
	}

	// kopia marks an object read through its index with one "I".
	return object.ParseID("I" + id.String())
}

// indexPrefix is the content prefix of kopia's object indexes, which puts
// them in its metadata packs.
const indexPrefix = "x"
