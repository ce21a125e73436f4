package s3source

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// ListObjectVersions pages are requested and parsed here rather than
// through minio-go's iterator, which cannot repair what some endpoints do:
//
//   - versitygw (v1.8.0) writes all DeleteMarker elements of a page before
//     all Version elements, so document order is not listing order; the two
//     lists are merged back here (mergeEntries).
//   - versitygw repeats the entry named by version-id-marker when it is a
//     key's current version; repeats are dropped (lister.emit).
//   - versitygw decodes key-marker twice ("+" becomes " ", "%25" becomes
//     "%"), which would silently skip or repeat keys; the echoed KeyMarker
//     is checked and the marker re-sent escaped once more (lister.page).

var errListMarker = errors.New("endpoint misreads listing markers")

// listEntry is one Version or DeleteMarker element.
type listEntry struct {
	Key          string    `xml:"Key"`
	VersionID    string    `xml:"VersionId"`
	IsLatest     bool      `xml:"IsLatest"`
	LastModified time.Time `xml:"LastModified"`
	ETag         string    `xml:"ETag"`
	Size         int64     `xml:"Size"`
	StorageClass string    `xml:"StorageClass"`
	// UserMetadata and UserTags are MinIO's answer to metadata=true; the
	// metadata element is there for every version listed so, the tags
	// (query-encoded) only if the version has any.
	UserMetadata *struct{} `xml:"UserMetadata"`
	UserTags     string    `xml:"UserTags"`
	dm           bool
	pos          int // position in the document
}

// versionsPage is one parsed ListVersionsResult.
type versionsPage struct {
	root          string // name of the root element
	truncated     bool
	encoding      string
	keyMarker     string // as echoed by the endpoint, decoded
	hasKeyMarker  bool
	nextKeyMarker string
	nextVIDMarker string
	versions, dms []listEntry
}

// fetchVersionsPage requests and parses one page.
func (c *Client) fetchVersionsPage(ctx context.Context, bucket, keyMarker, vidMarker string, maxKeys int, meta bool) (*versionsPage, error) {
	q := url.Values{"versions": {""}, "encoding-type": {"url"}}
	if meta {
		q.Set("metadata", "true")
	}
	if keyMarker != "" {
		q.Set("key-marker", keyMarker)
	}
	if vidMarker != "" {
		q.Set("version-id-marker", vidMarker)
	}
	if maxKeys > 0 {
		q.Set("max-keys", strconv.Itoa(maxKeys))
	}
	var p *versionsPage
	err := c.do(ctx, func(ctx context.Context) error {
		resp, err := c.rawDo(ctx, http.MethodGet, bucket, "", q, nil)
		if err != nil {
			return err
		}
		defer func() { _ = resp.Body.Close() }()
		// A page cut short parses as an error and is asked for again.
		if p, err = parseVersionsPage(resp.Body); err != nil {
			return fmt.Errorf("parse ListObjectVersions answer: %w", err)
		}
		return nil
	})
	return p, err
}

// parseVersionsPage decodes a ListVersionsResult document, keeping the
// document position of every entry and url-decoding names if the
// endpoint says it encoded them.
func parseVersionsPage(r io.Reader) (*versionsPage, error) {
	dec := xml.NewDecoder(r)
	p := &versionsPage{}
	depth, pos := 0, 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 {
				p.root = t.Name.Local
				continue
			}
			if depth != 2 {
				continue
			}
			if err := p.decodeChild(dec, t, &pos); err != nil {
				return nil, err
			}
			depth--
		case xml.EndElement:
			depth--
		}
	}
	return p, p.decodeNames()
}

func (p *versionsPage) decodeChild(dec *xml.Decoder, t xml.StartElement, pos *int) error {
	var s string
	switch t.Name.Local {
	case "Version", "DeleteMarker":
		e := listEntry{dm: t.Name.Local == "DeleteMarker", pos: *pos}
		*pos++
		if err := dec.DecodeElement(&e, &t); err != nil {
			return err
		}
		if e.dm {
			p.dms = append(p.dms, e)
		} else {
			p.versions = append(p.versions, e)
		}
		return nil
	case "IsTruncated":
		var b bool
		if err := dec.DecodeElement(&b, &t); err != nil {
			return err
		}
		p.truncated = b
		return nil
	case "EncodingType", "KeyMarker", "NextKeyMarker", "NextVersionIdMarker":
		if err := dec.DecodeElement(&s, &t); err != nil {
			return err
		}
	default:
		return dec.Skip()
	}
	switch t.Name.Local {
	case "EncodingType":
		p.encoding = s
	case "KeyMarker":
		p.keyMarker, p.hasKeyMarker = s, true
	case "NextKeyMarker":
		p.nextKeyMarker = s
	case "NextVersionIdMarker":
		p.nextVIDMarker = s
	}
	return nil
}

func (p *versionsPage) decodeNames() error {
	if p.encoding != "url" {
		return nil
	}
	var err error
	dec := func(s *string) {
		if err == nil {
			*s, err = url.QueryUnescape(*s)
		}
	}
	dec(&p.keyMarker)
	dec(&p.nextKeyMarker)
	for i := range p.versions {
		dec(&p.versions[i].Key)
	}
	for i := range p.dms {
		dec(&p.dms[i].Key)
	}
	return err
}

// mergeEntries merges a page's versions and delete markers, each in
// listing order, into one listing-ordered slice. For endpoints that
// interleave them correctly this is their document order.
func mergeEntries(vs, dms []listEntry) []listEntry {
	out := make([]listEntry, 0, len(vs)+len(dms))
	i, j := 0, 0
	for i < len(vs) && j < len(dms) {
		if entryBefore(dms[j], vs[i]) {
			out = append(out, dms[j])
			j++
		} else {
			out = append(out, vs[i])
			i++
		}
	}
	out = append(out, vs[i:]...)
	return append(out, dms[j:]...)
}

// entryBefore reports whether a is listed before b: keys ascending, then
// the current version first, then newest first. ULID version ids
// (versitygw) carry their creation time to the millisecond and sort by it;
// versitygw lists version times in whole seconds and delete-marker times
// as when they were archived, so ids are the better clock there. Other
// times are compared in whole seconds, the coarsest precision an endpoint
// lists; within a second the endpoint's document order decides.
func entryBefore(a, b listEntry) bool {
	if a.Key != b.Key {
		return a.Key < b.Key
	}
	if a.IsLatest != b.IsLatest {
		return a.IsLatest
	}
	if isULID(a.VersionID) && isULID(b.VersionID) {
		return a.VersionID > b.VersionID
	}
	if sa, sb := a.LastModified.Unix(), b.LastModified.Unix(); sa != sb {
		return sa > sb
	}
	return a.pos < b.pos
}

// isULID reports whether s looks like a ULID (26 Crockford base32 digits).
func isULID(s string) bool {
	if len(s) != 26 || s[0] > '7' {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch >= '0' && ch <= '9':
		case ch >= 'A' && ch <= 'Z' && ch != 'I' && ch != 'L' && ch != 'O' && ch != 'U':
		default:
			return false
		}
	}
	return true
}

// doubleEscape escapes a marker once more for endpoints that decode query
// values twice.
func doubleEscape(s string) string { return url.QueryEscape(s) }
