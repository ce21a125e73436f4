package recpoint

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// FormatName and FormatVersion identify the record stream; they are the
// first line of every stream so that a future reader can refuse what it
// does not understand.
const (
	FormatName    = "coffer-records"
	FormatVersion = 1
)

// Capture states of optional parts of a record (tags, ACL).
const (
	StateCaptured    = "captured"
	StateDisabled    = "disabled"    // turned off by the job's settings
	StateUnavailable = "unavailable" // the endpoint does not support it or refused it
)

// Grant is one entry of an object ACL.
type Grant struct {
	GranteeType string `json:"type,omitempty"` // CanonicalUser, Group, AmazonCustomerByEmail
	GranteeID   string `json:"id,omitempty"`
	GranteeURI  string `json:"uri,omitempty"`
	Email       string `json:"email,omitempty"`
	DisplayName string `json:"name,omitempty"`
	Permission  string `json:"perm"`
}

// ACL is an object's access control list as read from GetObjectAcl.
type ACL struct {
	OwnerID          string  `json:"owner_id,omitempty"`
	OwnerDisplayName string  `json:"owner_name,omitempty"`
	Grants           []Grant `json:"grants,omitempty"`
}

// Lock is an object version's object-lock state.
type Lock struct {
	Mode        string     `json:"mode,omitempty"` // GOVERNANCE or COMPLIANCE
	RetainUntil *time.Time `json:"retain_until,omitempty"`
	LegalHold   bool       `json:"legal_hold,omitempty"`
}

// Record describes one object version or delete marker of a bucket.
//
// Records of a stream are in the source's listing order: keys ascending by
// their UTF-8 bytes, and the versions of a key newest first.
type Record struct {
	Key          string    `json:"k"`
	VersionID    string    `json:"vid,omitempty"` // empty or "null" for unversioned objects
	IsLatest     bool      `json:"latest,omitempty"`
	DeleteMarker bool      `json:"dm,omitempty"`
	LastModified time.Time `json:"mtime"`
	Size         int64     `json:"size,omitempty"`
	ETag         string    `json:"etag,omitempty"`
	StorageClass string    `json:"sc,omitempty"`

	ContentType        string            `json:"ct,omitempty"`
	ContentEncoding    string            `json:"ce,omitempty"`
	ContentDisposition string            `json:"cd,omitempty"`
	ContentLanguage    string            `json:"cl,omitempty"`
	CacheControl       string            `json:"cc,omitempty"`
	Expires            string            `json:"exp,omitempty"` // as sent by the endpoint (RFC 1123)
	UserMetadata       map[string]string `json:"meta,omitempty"`
	Checksums          map[string]string `json:"sums,omitempty"` // CRC32, CRC32C, SHA1, SHA256, CRC64NVME

	Tags      map[string]string `json:"tags,omitempty"`
	TagsState string            `json:"tags_state,omitempty"`
	ACL       *ACL              `json:"acl,omitempty"`
	ACLState  string            `json:"acl_state,omitempty"`
	Lock      *Lock             `json:"lock,omitempty"`

	// Ord is the version's position from the oldest in the endpoint's
	// listing of its key, recorded by continuous capture (internal/capturelog)
	// to order versions with the same LastModified; 0 (absent) elsewhere.
	Ord int64 `json:"ord,omitempty"`

	// Data is the vault object holding the version's bytes; empty for delete
	// markers and zero-byte objects.
	Data string `json:"data,omitempty"`
}

type header struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
}

// Writer encodes records as JSON lines after a header line. JSON escapes
// every control character, so any S3 key (newlines included) fits on a line;
// content-defined chunking of the vault then dedups unchanged runs of lines
// between recovery points.
type Writer struct {
	bw    *bufio.Writer
	enc   *json.Encoder
	count int64
	last  string
}

// NewWriter starts a record stream on w.
func NewWriter(w io.Writer) (*Writer, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(header{Format: FormatName, Version: FormatVersion}); err != nil {
		return nil, fmt.Errorf("write record header: %w", err)
	}
	return &Writer{bw: bw, enc: enc}, nil
}

// ErrOutOfOrder is returned when records are not written in key order.
var ErrOutOfOrder = errors.New("records out of key order")

// Write appends one record. Keys must not decrease.
func (w *Writer) Write(r *Record) error {
	if w.count > 0 && r.Key < w.last {
		return fmt.Errorf("%w: %q after %q", ErrOutOfOrder, r.Key, w.last)
	}
	if err := w.enc.Encode(r); err != nil {
		return fmt.Errorf("write record %q: %w", r.Key, err)
	}
	w.count++
	w.last = r.Key
	return nil
}

// Count is the number of records written.
func (w *Writer) Count() int64 { return w.count }

// Flush writes buffered records to the underlying writer.
func (w *Writer) Flush() error { return w.bw.Flush() }

// Reader decodes a record stream.
type Reader struct {
	dec     *json.Decoder
	last    string
	started bool
}

// ErrBadFormat is returned for a stream that is not a record stream this
// version understands.
var ErrBadFormat = errors.New("not a coffer record stream")

// NewReader reads and checks the header of a record stream.
func NewReader(r io.Reader) (*Reader, error) {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 64<<10))
	var h header
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("%w: read header: %v", ErrBadFormat, err)
	}
	if h.Format != FormatName || h.Version != FormatVersion {
		return nil, fmt.Errorf("%w: format %q version %d", ErrBadFormat, h.Format, h.Version)
	}
	return &Reader{dec: dec}, nil
}

// Next decodes the next record into r. It returns io.EOF after the last
// one, and ErrOutOfOrder for a key before the previous one: readers group
// a key's versions by adjacency (a restore keeps the newest N of each
// group), so a stream out of order would restore the wrong versions.
func (rd *Reader) Next(r *Record) error {
	*r = Record{}
	if err := rd.dec.Decode(r); err != nil {
		if errors.Is(err, io.EOF) {
			return io.EOF
		}
		return fmt.Errorf("read record: %w", err)
	}
	if rd.started && r.Key < rd.last {
		return fmt.Errorf("read record: %w: %q after %q", ErrOutOfOrder, r.Key, rd.last)
	}
	rd.last, rd.started = r.Key, true
	return nil
}
