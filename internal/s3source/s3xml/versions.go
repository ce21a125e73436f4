package s3xml

import (
	"encoding/xml"
	"io"
	"net/url"
	"time"
)

// Entry is one Version or DeleteMarker element.
type Entry struct {
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
	DeleteMarker bool      `xml:"-"` // a DeleteMarker element
	Pos          int       `xml:"-"` // position in the document
}

// VersionsPage is one parsed ListVersionsResult.
type VersionsPage struct {
	Root          string // name of the root element
	Truncated     bool
	Encoding      string
	KeyMarker     string // as echoed by the endpoint, decoded
	HasKeyMarker  bool
	NextKeyMarker string
	NextVIDMarker string
	// Versions and DeleteMarkers are each in document order.
	Versions, DeleteMarkers []Entry
}

// ParseVersionsPage decodes a ListVersionsResult document, keeping the
// document position of every entry and url-decoding names if the
// endpoint says it encoded them.
func ParseVersionsPage(r io.Reader) (*VersionsPage, error) {
	dec := xml.NewDecoder(r)
	p := &VersionsPage{}
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
				p.Root = t.Name.Local
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

func (p *VersionsPage) decodeChild(dec *xml.Decoder, t xml.StartElement, pos *int) error {
	var s string
	switch t.Name.Local {
	case "Version", "DeleteMarker":
		e := Entry{DeleteMarker: t.Name.Local == "DeleteMarker", Pos: *pos}
		*pos++
		if err := dec.DecodeElement(&e, &t); err != nil {
			return err
		}
		if e.DeleteMarker {
			p.DeleteMarkers = append(p.DeleteMarkers, e)
		} else {
			p.Versions = append(p.Versions, e)
		}
		return nil
	case "IsTruncated":
		var b bool
		if err := dec.DecodeElement(&b, &t); err != nil {
			return err
		}
		p.Truncated = b
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
		p.Encoding = s
	case "KeyMarker":
		p.KeyMarker, p.HasKeyMarker = s, true
	case "NextKeyMarker":
		p.NextKeyMarker = s
	case "NextVersionIdMarker":
		p.NextVIDMarker = s
	}
	return nil
}

func (p *VersionsPage) decodeNames() error {
	if p.Encoding != "url" {
		return nil
	}
	var err error
	dec := func(s *string) {
		if err == nil {
			*s, err = url.QueryUnescape(*s)
		}
	}
	dec(&p.KeyMarker)
	dec(&p.NextKeyMarker)
	for i := range p.Versions {
		dec(&p.Versions[i].Key)
	}
	for i := range p.DeleteMarkers {
		dec(&p.DeleteMarkers[i].Key)
	}
	return err
}

// MergeEntries merges a page's versions and delete markers, each in
// listing order, into one listing-ordered slice. For endpoints that
// interleave them correctly this is their document order.
func MergeEntries(vs, dms []Entry) []Entry {
	out := make([]Entry, 0, len(vs)+len(dms))
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
func entryBefore(a, b Entry) bool {
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
	return a.Pos < b.Pos
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
