package capturelog

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/cofferbackup/coffer/internal/recpoint"
)

// FormatName and FormatVersion identify a segment's stream (its first line).
const (
	FormatName    = "coffer-changes"
	FormatVersion = 1
)

// OpTags marks a tag change: a new tag set of the existing version
// VersionID of Key, in effect from Seen.
const OpTags = "tags"

// Sentinel errors.
var (
	// ErrBadFormat: a stream that is not coffer-changes v1.
	ErrBadFormat = errors.New("not a coffer-changes stream")
	// ErrOutOfOrder: a key before the previous one in a stream.
	ErrOutOfOrder = errors.New("changes out of key order")
	// ErrInvalid: a change or argument that cannot be recorded.
	ErrInvalid = errors.New("invalid capture log input")
)

// Change is one record of the capture log: a version or delete marker
// (Op empty; the full recpoint record, with Ord set by the capture) or a
// tag change (Op OpTags; Key, VersionID, Tags and Seen only; nil Tags
// means every tag was removed). Seen is when coffer learned of it: the
// event's time or the scan's start.
type Change struct {
	recpoint.Record
	Seen time.Time `json:"seen"`
	Op   string    `json:"op,omitempty"`
}

// at is the time from which the change is in effect: a version's
// LastModified, a tag change's Seen.
func (c *Change) at() time.Time {
	if c.Op == OpTags {
		return c.Seen
	}

	return c.LastModified
}

// compareChanges is a segment's order: key (UTF-8 bytes), then versions
// before tag changes, versions oldest first in the endpoint's order (ord,
// then mtime), tag changes by Seen.
func compareChanges(a, b *Change) int {
	if c := cmp.Compare(a.Key, b.Key); c != 0 {
		return c
	}

	if a.Op != b.Op {
		return cmp.Compare(a.Op, b.Op) // "" < "tags"
	}

	if a.Op == OpTags {
		if c := a.Seen.Compare(b.Seen); c != 0 {
			return c
		}

		return cmp.Compare(a.VersionID, b.VersionID)
	}

	if c := cmp.Compare(a.Ord, b.Ord); c != 0 {
		return c
	}

	if c := a.LastModified.Compare(b.LastModified); c != 0 {
		return c
	}

	return cmp.Compare(a.VersionID, b.VersionID)
}

func validChange(c *Change) error {
	switch {
	case c.Key == "":
		return fmt.Errorf("%w: change without a key", ErrInvalid)
	case c.Op != "" && c.Op != OpTags:
		return fmt.Errorf("%w: key %q: unknown op %q", ErrInvalid, c.Key, c.Op)
	case c.Op == OpTags && c.VersionID == "":
		return fmt.Errorf("%w: key %q: tag change without a version id", ErrInvalid, c.Key)
	case c.Op == OpTags && c.Seen.IsZero():
		return fmt.Errorf("%w: key %q: tag change without its time", ErrInvalid, c.Key)
	case c.Op == "" && c.LastModified.IsZero():
		return fmt.Errorf("%w: key %q version %q: no mtime", ErrInvalid, c.Key, c.VersionID)
	}

	return nil
}

type header struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
}

// changeWriter encodes changes as JSON lines after the header.
type changeWriter struct {
	bw   *bufio.Writer
	enc  *json.Encoder
	n    int64
	last string
}

func newChangeWriter(w io.Writer) (*changeWriter, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)

	if err := enc.Encode(header{Format: FormatName, Version: FormatVersion}); err != nil {
		return nil, fmt.Errorf("write changes header: %w", err)
	}

	return &changeWriter{bw: bw, enc: enc}, nil
}

func (w *changeWriter) write(c *Change) error {
	if w.n > 0 && c.Key < w.last {
		return fmt.Errorf("%w: %q after %q", ErrOutOfOrder, c.Key, w.last)
	}

	if err := w.enc.Encode(c); err != nil {
		return fmt.Errorf("write change %q: %w", c.Key, err)
	}

	w.n++
	w.last = c.Key

	return nil
}

func (w *changeWriter) flush() error { return w.bw.Flush() }

// changeReader decodes a coffer-changes stream.
type changeReader struct {
	dec     *json.Decoder
	last    string
	started bool
}

func newChangeReader(r io.Reader) (*changeReader, error) {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 32<<10))

	var h header
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("%w: read header: %v", ErrBadFormat, err)
	}

	if h.Format != FormatName || h.Version != FormatVersion {
		return nil, fmt.Errorf("%w: format %q version %d", ErrBadFormat, h.Format, h.Version)
	}

	return &changeReader{dec: dec}, nil
}

// next decodes the next change into c; io.EOF after the last.
func (r *changeReader) next(c *Change) error {
	*c = Change{}
	if err := r.dec.Decode(c); err != nil {
		if errors.Is(err, io.EOF) {
			return io.EOF
		}

		return fmt.Errorf("read change: %w", err)
	}

	if r.started && c.Key < r.last {
		return fmt.Errorf("read change: %w: %q after %q", ErrOutOfOrder, c.Key, r.last)
	}

	r.last, r.started = c.Key, true

	return nil
}
