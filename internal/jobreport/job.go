package jobreport

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cofferbackup/coffer/internal/s3source"
)

// Version is the format version of the Report this code writes.
const Version = 1

// Kinds of the jobs a Report describes.
const (
	KindBackup  = "backup"
	KindRestore = "restore"
)

// Report is the per-key detail of one job: what the catalog and the logs
// must not hold (object keys are customer data), kept encrypted in the
// job's vault and fetched through the API's report extension. Lists are
// bounded (the engines keep the first 1000); the counts are complete.
type Report struct {
	Version     int
	JobID       string
	Kind        string    // KindBackup or KindRestore
	State       string    // the job's state when the report was written
	CompletedAt time.Time `json:",omitempty"`
	// Items are a restore's ItemsToRestore, as requested.
	Items []string `json:",omitempty"`
	// Skipped are the keys a restore left alone because they existed at
	// the destination (Overwrite false); SkippedCount counts them all.
	Skipped      []string `json:",omitempty"`
	SkippedCount int64
	// Failures are the versions (backup) or keys (restore) that failed,
	// with the reason; FailedCount counts them all.
	Failures    []Failure `json:",omitempty"`
	FailedCount int64
	// Notes are the remarks of the status message; Details the same
	// remarks with the object they first concerned.
	Notes   []string `json:",omitempty"`
	Details []string `json:",omitempty"`
}

// Hasher makes keyed hashes of object keys: short, stable for one master
// key, and useless to anyone without it. They stand for keys where the
// catalog or a log line must tell items apart.
type Hasher struct{ key []byte }

// NewHasher returns a Hasher under secret (derived from the master key).
func NewHasher(secret []byte) Hasher { return Hasher{key: secret} }

// Hash returns the keyed hash of s: 16 hex digits (64 bits).
func (h Hasher) Hash(s string) string {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(s))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// Digest returns the keyed hash of a list, in order.
func (h Hasher) Digest(items []string) string {
	b, _ := json.Marshal(items) // a []string always marshals
	return h.Hash(string(b))
}

// Redact returns err's message with the object keys it names replaced by
// their keyed hashes: the keys of the s3source errors in its chain, and
// keys, the ones the caller knows of (a restore's items). What is left
// is fit for the catalog and the log; the report keeps the full text.
func (h Hasher) Redact(err error, keys ...string) string {
	msg := err.Error()
	for _, k := range append(opKeys(err), keys...) {
		msg = h.redactKey(msg, k)
	}
	return msg
}

// redactKey replaces key in msg as Go quotes it (s3source's errors), as
// it stands in a request URL (errors of the HTTP client) and, when long
// enough not to match ordinary words, as it is.
func (h Hasher) redactKey(msg, key string) string {
	if key == "" {
		return msg
	}
	tag := "key#" + h.Hash(key)
	msg = strings.ReplaceAll(msg, strconv.Quote(key), tag)
	if esc := strings.ReplaceAll(url.PathEscape(key), "%2F", "/"); esc != key {
		msg = strings.ReplaceAll(msg, esc, tag)
	}
	if len(key) >= 6 {
		msg = strings.ReplaceAll(msg, key, tag)
	}
	return msg
}

// opKeys returns the keys of the s3source errors in err's tree.
func opKeys(err error) []string {
	var out []string
	var walk func(error)
	walk = func(e error) {
		if oe, ok := e.(*s3source.OpError); ok && oe.Key != "" {
			out = append(out, oe.Key)
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			if next := u.Unwrap(); next != nil {
				walk(next)
			}
		case interface{ Unwrap() []error }:
			for _, next := range u.Unwrap() {
				walk(next)
			}
		}
	}
	walk(err)
	return out
}
