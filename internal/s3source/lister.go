package s3source

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/cofferbackup/coffer/internal/s3source/s3xml"
)

// maxGrow bounds how often a stalled listing retries with a doubled page.
const maxGrow = 4

// lister is the state of one ListVersions call.
type lister struct {
	c         *Client
	bucket    string
	prefix    string // list only keys that begin with it
	fn        func(Version) error
	chk       orderCheck
	keyMarker string
	vidMarker string
	maxKeys   int  // 0: the endpoint's default (1000)
	grow      int  // page doublings after stalls
	escape    bool // the endpoint decodes key-marker twice
	meta      bool // ask for MinIO's metadata listing
	// After a marker back-off, entries up to and including skip were
	// passed to fn already.
	skip    listEntry
	skipSet bool
}

func (l *lister) run(ctx context.Context) error {
	for first := true; ; first = false {
		p, err := l.page(ctx)
		if err != nil {
			if _, kind := classify(err); first && kind == ErrNotSupported {
				return l.c.listCurrent(ctx, l.bucket, l.prefix, l.fn)
			}
			return l.wrap(err)
		}
		if p.Root != "ListVersionsResult" {
			if first { // the endpoint ignored ?versions
				return l.c.listCurrent(ctx, l.bucket, l.prefix, l.fn)
			}
			return l.wrap(fmt.Errorf("unexpected answer %q", p.Root))
		}
		es := s3xml.MergeEntries(p.Versions, p.DeleteMarkers)
		if err := l.emit(es); err != nil {
			return err
		}
		if !p.Truncated {
			return nil
		}
		if err := l.advance(p, es); err != nil {
			return l.wrap(err)
		}
	}
}

func (l *lister) wrap(err error) error {
	return wrapErr("list versions", l.bucket, l.keyMarker, l.vidMarker, err)
}

// emit passes a page's entries to fn, dropping repeats of entries already
// passed and failing on entries out of order.
func (l *lister) emit(es []listEntry) error {
	for _, e := range es {
		if l.skipped(e) {
			continue
		}
		v, err := entryVersion(e)
		if err != nil {
			return wrapErr("list versions", l.bucket, e.Key, e.VersionID, err)
		}
		dup, err := l.chk.next(v)
		if err != nil {
			return wrapErr("list versions", l.bucket, v.Key, v.VersionID, err)
		}
		if dup {
			continue
		}
		if err := l.fn(v); err != nil {
			return err
		}
	}
	return nil
}

// skipped reports entries passed to fn before a marker back-off.
func (l *lister) skipped(e listEntry) bool {
	if !l.skipSet {
		return false
	}
	switch {
	case e.Key < l.skip.Key:
		return true
	case e.Key == l.skip.Key:
		if e.VersionID == l.skip.VersionID {
			l.skipSet = false
		}
		return true
	}
	l.skipSet = false
	return false
}

// advance sets the markers for the page after p.
//
// A key the endpoint could not put into XML (versitygw lists U+0001 as
// U+FFFD when it ignores encoding-type=url) is no usable marker: versitygw
// then silently ends the listing. The marker backs off to the page's last
// faithfully listed entry; the entries after it come again and are dropped
// as repeats.
//
// A page that does not advance (versitygw repeats the marker entry, so a
// one-entry page never advances) is asked for again with twice the keys.
func (l *lister) advance(p *versionsPage, es []listEntry) error {
	nk, nv := p.NextKeyMarker, p.NextVIDMarker
	if nk == "" && len(es) > 0 {
		nk, nv = es[len(es)-1].Key, es[len(es)-1].VersionID
	}
	if p.Encoding != "url" && strings.ContainsRune(nk, utf8.RuneError) && len(es) > 0 {
		l.skip, l.skipSet = es[len(es)-1], true
		nk, nv = l.keyMarker, l.vidMarker
		for i := len(es) - 1; i >= 0; i-- {
			if !strings.ContainsRune(es[i].Key, utf8.RuneError) {
				nk, nv = es[i].Key, es[i].VersionID
				break
			}
		}
	}
	if nk == "" || (nk == l.keyMarker && nv == l.vidMarker) {
		if l.grow >= maxGrow {
			return fmt.Errorf("%w: truncated listing does not advance past %q", errListOrder, nk)
		}
		l.grow++
		base := l.maxKeys
		if base <= 0 {
			base = 1000
		}
		l.maxKeys = 2 * base
		return nil
	}
	l.keyMarker, l.vidMarker = nk, nv
	return nil
}

// page fetches the page at the current markers and makes sure the
// endpoint read the key marker as sent; if it echoes something else, the
// marker is re-sent escaped once more (and so for the rest of the listing).
func (l *lister) page(ctx context.Context) (*versionsPage, error) {
	km := l.keyMarker
	sent := km
	if l.escape && km != "" {
		sent = doubleEscape(km)
	}
	p, err := l.c.fetchVersionsPage(ctx, l.bucket, l.prefix, sent, l.vidMarker, l.maxKeys, l.meta)
	if err != nil || km == "" || p.KeyMarker == "" || p.KeyMarker == km {
		return p, err
	}
	if !l.escape {
		l.escape = true
		p2, err := l.c.fetchVersionsPage(ctx, l.bucket, l.prefix, doubleEscape(km), l.vidMarker, l.maxKeys, l.meta)
		if err != nil || p2.KeyMarker == km {
			return p2, err
		}
	}
	return nil, fmt.Errorf("%w: sent key-marker %q, endpoint read %q", errListMarker, km, p.KeyMarker)
}
