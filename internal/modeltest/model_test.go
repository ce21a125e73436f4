package modeltest

import (
	"maps"
	"sort"
	"strconv"
	"strings"

	bt "github.com/cofferbackup/coffer/internal/backup/backuptest"
)

// entry is one object version or delete marker of the model.
type entry struct {
	vid    string // the version id the server gave ("" on unversioned buckets)
	dm     bool
	size   int64
	sha    string // hex SHA-256 of the bytes
	etag   string // as the server answered the PUT (a multipart ETag has a "-")
	header map[string]string
	meta   map[string]string
	tags   map[string]string
}

// version is the entry as backuptest compares it.
func (e *entry) version(key string) bt.Version {
	if e.dm {
		return bt.Version{Key: key, VersionID: e.vid, DeleteMarker: true}
	}
	return bt.Version{Key: key, VersionID: e.vid, Size: e.size, ETag: e.etag, SHA256: e.sha,
		Header: maps.Clone(e.header), UserMetadata: maps.Clone(e.meta), Tags: maps.Clone(e.tags)}
}

// bucketModel is what a source bucket holds: each key's history, oldest
// first. An unversioned bucket holds at most one entry per key.
type bucketModel struct {
	name      string
	versioned bool
	keys      map[string][]entry
}

func newBucketModel(name string, versioned bool) *bucketModel {
	return &bucketModel{name: name, versioned: versioned, keys: map[string][]entry{}}
}

// put records a new current version (replacing the object when unversioned).
func (b *bucketModel) put(key string, e entry) {
	if !b.versioned {
		b.keys[key] = []entry{e}
		return
	}
	b.keys[key] = append(b.keys[key], e)
}

// remove records a delete without a version id: a delete marker when
// versioned, the end of the object otherwise.
func (b *bucketModel) remove(key, markerVID string) {
	if !b.versioned {
		delete(b.keys, key)
		return
	}
	b.keys[key] = append(b.keys[key], entry{vid: markerVID, dm: true})
}

// removeVersion records the deletion of the i-th entry (oldest = 0).
func (b *bucketModel) removeVersion(key string, i int) {
	h := b.keys[key]
	h = append(h[:i:i], h[i+1:]...)
	if len(h) == 0 {
		delete(b.keys, key)
		return
	}
	b.keys[key] = h
}

// sortedKeys returns the keys in S3 listing order (UTF-8 bytes ascending).
func (b *bucketModel) sortedKeys() []string {
	ks := make([]string, 0, len(b.keys))
	for k := range b.keys {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// entries is the number of versions and delete markers.
func (b *bucketModel) entries() int {
	n := 0
	for _, h := range b.keys {
		n += len(h)
	}
	return n
}

// history is the state a backup taken now must capture: a deep copy.
func (b *bucketModel) history() bt.History {
	h := bt.History{}
	for k, es := range b.keys {
		vs := make([]bt.Version, len(es))
		for i := range es {
			vs[i] = es[i].version(k)
		}
		h[k] = vs
	}
	return h
}

// restoreMode is what a restore asks for.
type restoreMode struct {
	versions int      // RestoreLatestVersionsUpTo: 0 = all
	items    []string // key prefixes (ItemsToRestore); none = the whole bucket
}

func (m restoreMode) String() string {
	v := "all"
	if m.versions > 0 {
		v = strconv.Itoa(m.versions)
	}
	if len(m.items) == 0 {
		return "versions=" + v + " whole bucket"
	}
	return "versions=" + v + " items=" + strings.Join(quoteAll(m.items), ",")
}

// expect is what a restore of a recovery point holding h must write, as
// docs/api.md promises: of each selected key the newest N entries of its
// history, oldest first, without the delete markers that would come first
// (nothing older is written before them); keys left with nothing are not
// written.
func (m restoreMode) expect(h bt.History) bt.History {
	var keep func(string) bool
	if len(m.items) > 0 {
		keep = func(k string) bool {
			for _, p := range m.items {
				if strings.HasPrefix(k, p) {
					return true
				}
			}
			return false
		}
	}
	return h.Select(m.versions, keep)
}

// recoveryPoint is a recovery point the model knows of.
type recoveryPoint struct {
	arn, vault string
	bucket     *bucketModel
	op         int // the operation that made it
	hist       bt.History
	versions   int // entries it holds
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}
