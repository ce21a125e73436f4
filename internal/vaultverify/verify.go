package vaultverify

import (
	"context"
	"crypto/sha1" //nolint:gosec // S3's SHA1 checksum is checked as S3 computed it
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kopia/kopia/repo"
	"github.com/kopia/kopia/repo/blob"
	"github.com/kopia/kopia/repo/content"
	"github.com/kopia/kopia/repo/format"
	"github.com/kopia/kopia/repo/object"

	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/vault"
)

// Kinds of problem Verify reports.
const (
	ProblemManifest     = "manifest"       // a recovery-point manifest does not decode
	ProblemRecords      = "records"        // the record stream does not open or decode
	ProblemObject       = "object"         // an object's index (seek table) is unreadable or names unknown contents
	ProblemMissingPack  = "missing-pack"   // a content's pack file is gone
	ProblemTruncated    = "truncated-pack" // a content lies beyond the end of its pack file
	ProblemUnreadable   = "unreadable"     // a content read does not decrypt (authentication failed) or decompress
	ProblemSize         = "size"           // the bytes read are not the record's size
	ProblemChecksum     = "checksum"       // the bytes read do not match a checksum the source gave
	maxListedProblems   = 1000             // problems listed in a report; the rest are only counted
	recordStreamIndex   = -1               // Problem.Record of a problem of the record stream itself
	verifyPercentAlways = 100
)

// Options selects how much Verify reads.
type Options struct {
	// ReadDataPercent is the share (0 to 100) of the data objects that
	// are read, decrypted and checked against their record's size and
	// checksums; the others are checked in the index and the pack listing
	// only. Record streams are always read whole.
	ReadDataPercent float64
	// Seed picks which objects are read (by a hash of seed and object id),
	// so that a run can be repeated, or the next run pick others.
	Seed uint64
	// Streams, if set, lists more recovery points to check once the
	// manifests' are, whose records are not a manifest's stream: a
	// continuous recovery point's state (the capture log, which this
	// package does not read itself). Its error fails the Verify.
	Streams func(ctx context.Context) ([]Stream, error)
}

// Stream is a recovery point's record stream that Verify checks
// like a manifest's: Open's error, or a stream that does not decode, is a
// ProblemRecords of RecoveryPointID.
type Stream struct {
	RecoveryPointID string
	Open            func(ctx context.Context) (io.ReadCloser, error)
}

// Problem is one thing Verify found wrong. It names no object key: a
// recovery point id, a record's index in its stream and the engine's ids
// (keyed hashes) say where it is.
type Problem struct {
	Kind            string
	RecoveryPointID string `json:",omitempty"`
	// Record is the record's index in the stream (0 is the first record);
	// -1 for the record stream itself.
	Record  int64
	Object  string `json:",omitempty"`
	Content string `json:",omitempty"`
	Pack    string `json:",omitempty"`
	Detail  string `json:",omitempty"`
}

// Report is what Verify checked and found.
type Report struct {
	ReadDataPercent float64
	Seed            uint64
	RecoveryPoints  int64 // manifests checked
	Records         int64 // records decoded
	Objects         int64 // distinct objects checked (record streams and data)
	Contents        int64 // distinct contents checked in the index and pack listing
	Packs           int64 // blobs in the vault's storage
	// DeletedReferenced counts referenced contents that the index marks
	// deleted: not lost yet (the next maintenance undeletes what a live
	// recovery point references, as a recovery point committed while a
	// sweep ran may need), so not a problem; with a single writer it
	// stays 0.
	DeletedReferenced int64
	ObjectsRead       int64 // data objects read whole
	BytesRead         int64
	ProblemCount      int64            // every problem, listed or not
	ProblemKinds      map[string]int64 `json:",omitempty"`
	// AffectedRecoveryPoints are the ids of the recovery points with a
	// problem, sorted.
	AffectedRecoveryPoints []string  `json:",omitempty"`
	Problems               []Problem `json:",omitempty"` // the first maxListedProblems
}

// OK reports whether no problem was found.
func (r Report) OK() bool { return r.ProblemCount == 0 }

// Verify checks the vault's integrity: every recovery point's manifest
// and record stream decodes, every object a record references is in the
// index with all its contents, every such content's pack file exists and
// holds it, and opts.ReadDataPercent of the data objects read back
// (decrypted and authenticated, then compared with the record's size and
// checksums). It writes nothing and runs beside jobs (not beside
// Maintain). Problems are reported, not returned: the error is for a
// vault that could not be checked at all.
func Verify(ctx context.Context, v *vault.Vault, opts Options) (Report, error) {
	rep := Report{ReadDataPercent: opts.ReadDataPercent, Seed: opts.Seed}

	if err := dropReadCaches(v.CacheDir()); err != nil {
		return rep, fmt.Errorf("vault %q: verify: %w", v.Dir(), err)
	}

	err := v.Repository(ctx, func(r repo.DirectRepository) error {
		// A vault whose storage went away under the open handle would keep
		// kopia retrying its index for minutes: say so at once.
		if _, err := r.BlobReader().GetMetadata(ctx, format.KopiaRepositoryBlobID); err != nil {
			if errors.Is(err, blob.ErrBlobNotFound) {
				err = fmt.Errorf("%w: its storage holds no repository any more (directory or bucket prefix removed?)", vault.ErrNotFound)
			}
			return err
		}

		// Another process sharing the vault may have committed since.
		if err := r.Refresh(ctx); err != nil {
			return fmt.Errorf("refresh index: %w", err)
		}

		packs, err := blob.ReadBlobMap(ctx, r.BlobReader())
		if err != nil {
			return fmt.Errorf("list packs: %w", err)
		}

		vr := &verifyRun{dir: v.Dir(), r: r, opts: opts, packs: packs, objects: map[string][]Problem{},
			contents: map[content.ID]*Problem{}, affected: map[string]bool{}, rep: &rep}
		rep.Packs = int64(len(packs))

		return vr.run(ctx)
	})
	if err != nil {
		return rep, fmt.Errorf("vault %q: verify: %w", v.Dir(), err)
	}

	return rep, nil
}

// dropReadCaches empties kopia's local caches of contents and metadata
// packs, so that what Verify reads comes from the vault's storage and not
// from a copy read before the storage was damaged. kopia takes a missing
// cache file as a miss; other jobs reading meanwhile only miss too.
func dropReadCaches(cache string) error {
	if cache == "" {
		return nil
	}
	for _, sub := range []string{"contents", "metadata"} {
		d := filepath.Join(cache, sub)
		entries, err := os.ReadDir(d)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("drop the read cache: %w", err)
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") { // kopia's shard configuration
				continue
			}
			if err := os.RemoveAll(filepath.Join(d, e.Name())); err != nil {
				return fmt.Errorf("drop the read cache: %w", err)
			}
		}
	}

	return nil
}

// verifyRun is one Verify: what was checked already (objects and contents
// are shared between recovery points) and the report.
type verifyRun struct {
	dir   string // the vault's, kept out of reports (see clean)
	r     repo.Repository
	opts  Options
	packs map[blob.ID]blob.Metadata

	objects  map[string][]Problem    // by object id: its problems (nil: sound), RP and record unset
	contents map[content.ID]*Problem // by content id: its problem, or nil
	affected map[string]bool         // recovery points with a problem
	rep      *Report
}

func (vr *verifyRun) run(ctx context.Context) error {
	mds, err := vr.r.FindManifests(ctx, vault.RecoveryPointLabels(""))
	if err != nil {
		return fmt.Errorf("find manifests: %w", err)
	}

	for _, md := range mds {
		if err := ctx.Err(); err != nil {
			return err
		}

		vr.rep.RecoveryPoints++

		var m recpoint.Manifest
		if _, err := vr.r.GetManifest(ctx, md.ID, &m); err != nil {
			vr.add(Problem{Kind: ProblemManifest, RecoveryPointID: md.Labels[vault.LabelID], Record: recordStreamIndex,
				Detail: fmt.Sprintf("manifest %v: %v", md.ID, vr.clean(err))})

			continue
		}

		if err := vr.recoveryPoint(ctx, m); err != nil {
			return err
		}
	}

	if vr.opts.Streams != nil {
		streams, err := vr.opts.Streams(ctx)
		if err != nil {
			return err
		}

		for _, st := range streams {
			if err := vr.stream(ctx, st); err != nil {
				return err
			}
		}
	}

	ids := make([]string, 0, len(vr.affected))
	for id := range vr.affected {
		ids = append(ids, id)
	}

	sort.Strings(ids)
	vr.rep.AffectedRecoveryPoints = ids

	return nil
}

// recoveryPoint checks one recovery point's record stream and every
// object its records reference. Only a cancelled ctx is an error.
func (vr *verifyRun) recoveryPoint(ctx context.Context, m recpoint.Manifest) error {
	streamProblem := func(kind string, err error) {
		vr.add(Problem{Kind: kind, RecoveryPointID: m.ID, Record: recordStreamIndex, Object: m.Records, Detail: vr.clean(err)})
	}

	roid, err := object.ParseID(m.Records)
	if err != nil {
		streamProblem(ProblemRecords, fmt.Errorf("records object id: %w", err))
		return nil
	}

	if ps := vr.object(ctx, roid, nil); len(ps) > 0 {
		vr.addAll(ps, m.ID, recordStreamIndex)
		return ctx.Err()
	}

	or, err := vr.r.OpenObject(ctx, roid)
	if err != nil {
		streamProblem(ProblemRecords, fmt.Errorf("open records: %w", err))
		return ctx.Err()
	}
	defer or.Close() //nolint:errcheck // read-only

	rd, err := recpoint.NewReader(or)
	if err != nil {
		streamProblem(ProblemRecords, err)
		return ctx.Err()
	}

	for i := int64(0); ; i++ {
		var rec recpoint.Record

		err := rd.Next(&rec)
		if errors.Is(err, io.EOF) {
			return nil
		}

		if err != nil {
			// A decode error may quote the line: say where, not what.
			streamProblem(ProblemRecords, fmt.Errorf("record %d does not decode", i))
			return ctx.Err()
		}

		vr.rep.Records++

		if err := vr.record(ctx, m.ID, i, &rec); err != nil {
			return err
		}
	}
}

// stream checks the records of one extra stream. Only a cancelled ctx is
// an error.
func (vr *verifyRun) stream(ctx context.Context, st Stream) error {
	vr.rep.RecoveryPoints++

	problem := func(err error) error {
		vr.add(Problem{Kind: ProblemRecords, RecoveryPointID: st.RecoveryPointID, Record: recordStreamIndex, Detail: vr.clean(err)})
		return ctx.Err()
	}

	rc, err := st.Open(ctx)
	if err != nil {
		return problem(err)
	}
	defer rc.Close() //nolint:errcheck // read-only

	rd, err := recpoint.NewReader(rc)
	if err != nil {
		return problem(err)
	}

	for i := int64(0); ; i++ {
		var rec recpoint.Record

		err := rd.Next(&rec)
		if errors.Is(err, io.EOF) {
			return nil
		}

		if err != nil {
			// A decode error may quote the line: say where, not what.
			return problem(fmt.Errorf("record %d does not decode, or the stream could not be read on", i))
		}

		vr.rep.Records++

		if err := vr.record(ctx, st.RecoveryPointID, i, &rec); err != nil {
			return err
		}
	}
}

// record checks the data object of record i of recovery point rpID.
func (vr *verifyRun) record(ctx context.Context, rpID string, i int64, rec *recpoint.Record) error {
	if rec.Data == "" {
		return nil
	}

	oid, err := object.ParseID(rec.Data)
	if err != nil {
		vr.add(Problem{Kind: ProblemObject, RecoveryPointID: rpID, Record: i, Detail: "data object id does not parse"})
		return nil
	}

	if ps := vr.object(ctx, oid, rec); len(ps) > 0 {
		vr.addAll(ps, rpID, i)
	}

	return ctx.Err()
}

// object checks oid once per run (its contents in the index, their packs
// present and large enough) and, when rec is given and oid is picked,
// reads it whole against rec. It returns oid's problems.
func (vr *verifyRun) object(ctx context.Context, oid object.ID, rec *recpoint.Record) []Problem {
	key := oid.String()
	if ps, ok := vr.objects[key]; ok {
		return ps
	}

	vr.rep.Objects++

	var ps []Problem

	cids, err := vr.r.VerifyObject(ctx, oid)
	if err != nil {
		ps = append(ps, Problem{Kind: ProblemObject, Object: key, Detail: vr.clean(err)})
	}

	for _, cid := range cids {
		if p := vr.content(ctx, cid); p != nil {
			q := *p
			q.Object = key
			ps = append(ps, q)
		}
	}

	if len(ps) == 0 && rec != nil && vr.picked(key) {
		ps = vr.read(ctx, oid, rec)
	}

	if ctx.Err() == nil { // a cancelled check proves nothing either way
		vr.objects[key] = ps
	}

	return ps
}

// content checks one content's index entry against the pack listing.
func (vr *verifyRun) content(ctx context.Context, cid content.ID) *Problem {
	if p, ok := vr.contents[cid]; ok {
		return p
	}

	vr.rep.Contents++

	var p *Problem

	ci, err := vr.r.ContentInfo(ctx, cid)

	switch pack, found := vr.packs[ci.PackBlobID]; {
	case err != nil:
		p = &Problem{Kind: ProblemObject, Content: cid.String(), Detail: vr.clean(err)}
	case !found:
		p = &Problem{Kind: ProblemMissingPack, Content: cid.String(), Pack: string(ci.PackBlobID)}
	case int64(ci.PackOffset)+int64(ci.PackedLength) > pack.Length:
		p = &Problem{Kind: ProblemTruncated, Content: cid.String(), Pack: string(ci.PackBlobID),
			Detail: fmt.Sprintf("content at %d+%d, pack of %d bytes", ci.PackOffset, ci.PackedLength, pack.Length)}
	}

	if err == nil && ci.Deleted {
		vr.rep.DeletedReferenced++
	}

	vr.contents[cid] = p

	return p
}

// picked reports whether object key is one of the share to read.
func (vr *verifyRun) picked(key string) bool {
	pct := vr.opts.ReadDataPercent
	if pct <= 0 {
		return false
	}

	if pct >= verifyPercentAlways {
		return true
	}

	h := fnv.New64a()

	var seed [8]byte
	binary.LittleEndian.PutUint64(seed[:], vr.opts.Seed)
	_, _ = h.Write(seed[:])
	_, _ = h.Write([]byte(key))

	return float64(h.Sum64()%1_000_000) < pct*10_000
}

// read reads object oid whole (every content decrypted and authenticated
// by kopia) and compares it with rec's size and checksums.
func (vr *verifyRun) read(ctx context.Context, oid object.ID, rec *recpoint.Record) []Problem {
	vr.rep.ObjectsRead++

	key := oid.String()

	or, err := vr.r.OpenObject(ctx, oid)
	if err != nil {
		return []Problem{{Kind: ProblemUnreadable, Object: key, Detail: vr.clean(err)}}
	}
	defer or.Close() //nolint:errcheck // read-only

	sums := newChecksums(rec.Checksums)

	n, err := io.Copy(sums, or)
	vr.rep.BytesRead += n

	if err != nil {
		return []Problem{{Kind: ProblemUnreadable, Object: key, Detail: vr.clean(err)}}
	}

	if n != rec.Size {
		return []Problem{{Kind: ProblemSize, Object: key, Detail: fmt.Sprintf("read %d bytes, record says %d", n, rec.Size)}}
	}

	if bad := sums.mismatches(); len(bad) > 0 {
		return []Problem{{Kind: ProblemChecksum, Object: key, Detail: strings.Join(bad, ", ") + " differ"}}
	}

	return nil
}

// add records a problem in the report.
func (vr *verifyRun) add(p Problem) {
	vr.rep.ProblemCount++

	if vr.rep.ProblemKinds == nil {
		vr.rep.ProblemKinds = map[string]int64{}
	}

	vr.rep.ProblemKinds[p.Kind]++

	if p.RecoveryPointID != "" {
		vr.affected[p.RecoveryPointID] = true
	}

	if len(vr.rep.Problems) < maxListedProblems {
		vr.rep.Problems = append(vr.rep.Problems, p)
	}
}

// addAll records an object's problems as those of record i of rpID.
func (vr *verifyRun) addAll(ps []Problem, rpID string, i int64) {
	for _, p := range ps {
		p.RecoveryPointID, p.Record = rpID, i
		vr.add(p)
	}
}

// clean is err's text without the vault's directory: a report may travel
// to a client, which need not learn the server's paths.
func (vr *verifyRun) clean(err error) string {
	return strings.ReplaceAll(err.Error(), vr.dir, "<vault>")
}

// checksums hashes what is written with every algorithm whose full-object
// checksum the source gave (composite multipart checksums, "...-N", and
// algorithms Go lacks, CRC64NVME, are not checked).
type checksums struct {
	want   map[string]string
	hashes map[string]hash.Hash
}

func newChecksums(given map[string]string) *checksums {
	c := &checksums{want: map[string]string{}, hashes: map[string]hash.Hash{}}

	for name, val := range given {
		if strings.Contains(val, "-") {
			continue
		}

		var h hash.Hash

		switch name {
		case "SHA256":
			h = sha256.New()
		case "SHA1":
			h = sha1.New() //nolint:gosec // as S3 computed it
		case "CRC32":
			h = crc32.NewIEEE()
		case "CRC32C":
			h = crc32.New(crc32.MakeTable(crc32.Castagnoli))
		default:
			continue
		}

		c.want[name], c.hashes[name] = val, h
	}

	return c
}

func (c *checksums) Write(p []byte) (int, error) {
	for _, h := range c.hashes {
		_, _ = h.Write(p)
	}

	return len(p), nil
}

// mismatches names the algorithms whose checksum differs, sorted.
func (c *checksums) mismatches() []string {
	var bad []string

	for name, h := range c.hashes {
		if base64.StdEncoding.EncodeToString(h.Sum(nil)) != c.want[name] {
			bad = append(bad, name)
		}
	}

	sort.Strings(bad)

	return bad
}
