package modeltest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/tags"

	bt "github.com/cofferbackup/coffer/internal/backup/backuptest"
)

// plainKeys complete the key pool: three folders, so that ItemsToRestore
// prefixes select some keys and not others.
var plainKeys = func() []string {
	var ks []string
	for i := range 30 {
		ks = append(ks, fmt.Sprintf("d%d/k%02d", i%3, i))
	}
	return ks
}()

// largeSize is above the 16 MiB at which minio-go (and coffer's restore)
// switch to multipart uploads.
const largeSize = 16<<20 + 1

// opKind is one kind of operation and how likely it is now (0: impossible).
type opKind struct {
	name   string
	weight func(r *runner) int
	do     func(r *runner)
}

func always(n int) func(*runner) int { return func(*runner) int { return n } }

var opKinds = []opKind{
	{"put", always(30), (*runner).opPut},
	{"delete", always(8), (*runner).opDelete},
	{"delete-version", func(r *runner) int {
		if !r.caps.versionDelete {
			return 0
		}
		return 3 + r.versionedEntries()/40 // keeps histories from growing without end
	}, (*runner).opDeleteVersion},
	{"tags", func(r *runner) int { return boolWeight(r.caps.tags, 5) }, (*runner).opTags},
	{"backup", always(7), func(r *runner) { r.opBackup(false) }},
	{"backup-restart", always(1), func(r *runner) { r.opBackup(true) }},
	{"restore", func(r *runner) int { return boolWeight(len(r.rps) > 0, 6) }, func(r *runner) { r.opRestore(false) }},
	{"restore-restart", func(r *runner) int { return boolWeight(len(r.rps) > 0, 1) }, func(r *runner) { r.opRestore(true) }},
	{"delete-rp", func(r *runner) int { return boolWeight(len(r.rps) > 2, 2) }, (*runner).opDeleteRP},
	{"maintain", always(1), (*runner).opMaintain},
	{"maintenance-job", always(1), (*runner).opMaintenanceJob},
	{"restart", always(1), func(r *runner) { r.restart("") }},
	{"audit", always(1), (*runner).opAudit},
}

func boolWeight(ok bool, n int) int {
	if ok {
		return n
	}
	return 0
}

// step runs one operation chosen by weight.
func (r *runner) step() {
	total := 0
	ws := make([]int, len(opKinds))
	for i, k := range opKinds {
		ws[i] = k.weight(r)
		total += ws[i]
	}
	n := r.rng.IntN(total)
	for i, k := range opKinds {
		if n < ws[i] {
			k.do(r)
			return
		}
		n -= ws[i]
	}
}

func (r *runner) versionedEntries() int {
	n := 0
	for _, b := range r.buckets {
		if b.versioned {
			n += b.entries()
		}
	}
	return n
}

func (r *runner) pickBucket(versionedOnly bool) *bucketModel {
	var bs []*bucketModel
	for _, b := range r.buckets {
		if b.versioned || !versionedOnly {
			bs = append(bs, b)
		}
	}
	if len(bs) == 0 {
		return nil
	}
	return bs[r.rng.IntN(len(bs))]
}

// pickKey returns a key of b with probability pExisting (if it has any),
// else one of the pool.
func (r *runner) pickKey(b *bucketModel, pExisting float64) string {
	if ks := b.sortedKeys(); len(ks) > 0 && r.rng.Float64() < pExisting {
		return ks[r.rng.IntN(len(ks))]
	}
	return r.keys[r.rng.IntN(len(r.keys))]
}

// pickSize draws a size: zero, small, up to 200 kB, or (the 16th put of
// every run, and rarely later) above the multipart threshold.
func (r *runner) pickSize() int64 {
	switch p := r.rng.Float64(); {
	case r.n.large < r.maxLarge && (r.n.puts == 15 || p < 0.004):
		return largeSize + r.rng.Int64N(1<<20)
	case p < 0.15:
		return 0
	case p < 0.75:
		return 1 + r.rng.Int64N(2048)
	default:
		return 2049 + r.rng.Int64N(200_000)
	}
}

var contentTypes = []string{"", "text/plain", "application/json", "image/png", "text/html; charset=utf-8"}

// putOptions draws the metadata of a new version and returns the header
// map the server must then answer with.
func (r *runner) putOptions() (minio.PutObjectOptions, map[string]string, map[string]string, map[string]string) {
	var o minio.PutObjectOptions
	header := map[string]string{}
	o.ContentType = contentTypes[r.rng.IntN(len(contentTypes))]
	header["Content-Type"] = o.ContentType
	if o.ContentType == "" {
		header["Content-Type"] = "application/octet-stream" // what minio-go sends
	}
	maybe := func(name string) bool { return r.caps.headers[name] && r.rng.IntN(4) == 0 }
	if maybe("Content-Encoding") {
		o.ContentEncoding, header["Content-Encoding"] = "gzip", "gzip"
	}
	if maybe("Content-Disposition") {
		o.ContentDisposition = fmt.Sprintf(`attachment; filename="f %d.bin"`, r.rng.IntN(100))
		header["Content-Disposition"] = o.ContentDisposition
	}
	if maybe("Content-Language") {
		o.ContentLanguage, header["Content-Language"] = "de-CH", "de-CH"
	}
	if maybe("Cache-Control") {
		o.CacheControl = fmt.Sprintf("max-age=%d, private", r.rng.IntN(10000))
		header["Cache-Control"] = o.CacheControl
	}
	if maybe("Expires") {
		o.Expires = time.Date(2030+r.rng.IntN(5), time.Month(1+r.rng.IntN(12)), 1+r.rng.IntN(28), r.rng.IntN(24), 0, 0, 0, time.UTC)
		header["Expires"] = o.Expires.Format(http.TimeFormat)
	}
	meta := map[string]string{}
	for range r.rng.IntN(3) {
		k := []string{"owner", "project", "x-trace", "n"}[r.rng.IntN(4)]
		meta[k] = fmt.Sprintf("v %d-%d", r.op, r.rng.IntN(1000))
	}
	o.UserMetadata = meta
	var tg map[string]string
	if r.caps.tags && r.rng.IntN(3) == 0 {
		tg = r.randomTags()
		o.UserTags = tg
	}
	return o, header, meta, tg
}

func (r *runner) randomTags() map[string]string {
	tg := map[string]string{}
	for range 1 + r.rng.IntN(3) {
		k := []string{"team", "env", "k 1", "a+b"}[r.rng.IntN(4)]
		tg[k] = fmt.Sprintf("t%d v", r.rng.IntN(100))
	}
	return tg
}

// opPut writes a new version (an overwrite when the key exists).
func (r *runner) opPut() {
	b := r.pickBucket(false)
	key := r.pickKey(b, 0.6)
	size := r.pickSize()
	opts, header, meta, tg := r.putOptions()
	seed := r.rng.Uint64()
	r.logf("put %s %q %d bytes seed %d ct=%q meta=%v tags=%v", b.name, key, size, seed, opts.ContentType, meta, tg)
	sum := sha256.New()
	_, _ = io.Copy(sum, bt.Data(seed, size))
	info, err := again(func() (minio.UploadInfo, error) {
		var body io.Reader = bt.Data(seed, size)
		if size < largeSize {
			body = bytes.NewReader(bt.Bytes(seed, int(size)))
		}
		return r.mc.PutObject(ctx, b.name, key, body, size, opts)
	})
	if err != nil {
		r.fatalf("put %s %q: %v", b.name, key, err)
	}
	r.n.puts++
	switch {
	case size >= largeSize:
		r.n.large++
	case size == 0:
		r.n.zero++
	}
	if !b.versioned {
		info.VersionID = ""
	}
	b.put(key, entry{vid: info.VersionID, size: size, sha: hex.EncodeToString(sum.Sum(nil)),
		etag: strings.Trim(info.ETag, `"`), header: header, meta: meta, tags: tg})
	r.logf("  -> version %s etag %s", info.VersionID, info.ETag)
}

// opDelete deletes without a version id: a delete marker on a versioned
// bucket (sometimes on a key whose latest entry already is one, or that
// has no version at all).
func (r *runner) opDelete() {
	b := r.pickBucket(false)
	var key string
	if b.versioned {
		var onMarker []string
		for _, k := range b.sortedKeys() {
			if h := b.keys[k]; h[len(h)-1].dm {
				onMarker = append(onMarker, k)
			}
		}
		switch p := r.rng.Float64(); {
		case p < 0.3 && len(onMarker) > 0:
			key = onMarker[r.rng.IntN(len(onMarker))]
		case p < 0.4:
			key = r.pickKey(b, 0) // maybe a key without history: a marker alone
		}
	}
	if key == "" {
		if len(b.keys) == 0 {
			return
		}
		key = r.pickKey(b, 1)
	}
	r.logf("delete %s %q", b.name, key)
	if _, err := again(func() (struct{}, error) {
		return struct{}{}, r.mc.RemoveObject(ctx, b.name, key, minio.RemoveObjectOptions{})
	}); err != nil {
		r.fatalf("delete %s %q: %v", b.name, key, err)
	}
	r.n.deletes++
	if !b.versioned {
		b.remove(key, "")
		return
	}
	vid, ok := r.latestMarker(b.name, key)
	h := b.keys[key]
	switch {
	case ok && len(h) > 0 && h[len(h)-1].dm && h[len(h)-1].vid == vid:
		// MinIO makes no second marker on a marker (AWS does); adjacent
		// markers come from deleting the version between two (see
		// opDeleteVersion).
		r.logf("  -> no new delete marker on delete marker %s", vid)
	case ok:
		r.logf("  -> delete marker %s", vid)
		b.remove(key, vid)
		r.countAdjacentMarkers(key, b)
	case len(b.keys[key]) == 0:
		// MinIO makes no marker for a key without any version (AWS does).
		r.logf("  -> no delete marker for a key without history")
	default:
		r.fatalf("delete %s %q: no current delete marker listed afterwards", b.name, key)
	}
}

// latestMarker finds the id of key's current delete marker, the one just
// made (DeleteObject's answer does not reach minio-go's caller).
func (r *runner) latestMarker(bucket, key string) (string, bool) {
	for o := range r.mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: key, WithVersions: true, Recursive: true}) {
		if o.Err != nil {
			r.fatalf("list versions of %s %q: %v", bucket, key, o.Err)
		}
		if o.Key == key && o.IsLatest && o.IsDeleteMarker {
			return o.VersionID, true
		}
	}
	return "", false
}

// opDeleteVersion deletes one version or delete marker by its id.
func (r *runner) opDeleteVersion() {
	b := r.pickBucket(true)
	if b == nil || len(b.keys) == 0 {
		return
	}
	key := r.pickKey(b, 1)
	h := b.keys[key]
	i := r.rng.IntN(len(h))
	if r.rng.IntN(2) == 0 {
		i = 0 // the oldest: histories stay short
	}
	e := h[i]
	r.logf("delete version %s %q #%d of %d (marker %v) %s", b.name, key, i, len(h), e.dm, e.vid)
	if _, err := again(func() (struct{}, error) {
		return struct{}{}, r.mc.RemoveObject(ctx, b.name, key, minio.RemoveObjectOptions{VersionID: e.vid})
	}); err != nil {
		r.fatalf("delete version %s %q %s: %v", b.name, key, e.vid, err)
	}
	r.n.versionDeletes++
	b.removeVersion(key, i)
	r.countAdjacentMarkers(key, b)
}

// countAdjacentMarkers counts an operation that left key with a delete
// marker right on top of another.
func (r *runner) countAdjacentMarkers(key string, b *bucketModel) {
	h := b.keys[key]
	for i := 1; i < len(h); i++ {
		if h[i].dm && h[i-1].dm {
			r.n.markerOnMarker++
			r.logf("  (%q now has a delete marker on a delete marker)", key)
			return
		}
	}
}

// opTags replaces or removes the tags of a version (mostly the current one).
func (r *runner) opTags() {
	b := r.pickBucket(false)
	var cands []string
	for _, k := range b.sortedKeys() {
		for _, e := range b.keys[k] {
			if !e.dm {
				cands = append(cands, k)
				break
			}
		}
	}
	if len(cands) == 0 {
		return
	}
	key := cands[r.rng.IntN(len(cands))]
	h := b.keys[key]
	var idx []int
	for i := range h {
		if !h[i].dm {
			idx = append(idx, i)
		}
	}
	i := idx[len(idx)-1]
	if r.rng.IntN(3) == 0 {
		i = idx[r.rng.IntN(len(idx))]
	}
	e := &h[i]
	var tg map[string]string
	if r.rng.IntN(4) > 0 {
		tg = r.randomTags()
	}
	r.logf("tags %s %q version %s -> %v", b.name, key, e.vid, tg)
	_, err := again(func() (struct{}, error) {
		if tg == nil {
			return struct{}{}, r.mc.RemoveObjectTagging(ctx, b.name, key, minio.RemoveObjectTaggingOptions{VersionID: e.vid})
		}
		t, err := tags.NewTags(tg, true)
		if err != nil {
			return struct{}{}, err
		}
		return struct{}{}, r.mc.PutObjectTagging(ctx, b.name, key, t, minio.PutObjectTaggingOptions{VersionID: e.vid})
	})
	if err != nil {
		r.fatalf("tags %s %q: %v", b.name, key, err)
	}
	r.n.tagChanges++
	e.tags = tg
}

// again retries an S3 call that versitygw now and then refuses on a
// reused connection ("BadRequest: An error occurred when parsing the HTTP
// request"): the request never ran, so trying it again is safe.
func again[T any](fn func() (T, error)) (T, error) {
	var v T
	var err error
	for range 3 {
		if v, err = fn(); err == nil || !strings.Contains(err.Error(), "parsing the HTTP request") {
			return v, err
		}
	}
	return v, err
}
