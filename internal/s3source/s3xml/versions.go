package s3xml

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
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
// endpoint says it encoded them. It reads raw tokens and sets the few
// fields it knows by hand (an incremental decodes every version its
// listing holds: reflection's DecodeElement was most of that cost), and
// still refuses a document whose end tags do not match.
func ParseVersionsPage(r io.Reader) (*VersionsPage, error) {
	dec := xml.NewDecoder(r)
	p := &VersionsPage{}
	var (
		open []xml.Name // the open elements, as written
		text []byte     // character data since the last start or end tag
		e    *Entry     // the Version or DeleteMarker open at depth 2
		pos  int
	)
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			open = append(open, t.Name)
			text = text[:0]
			switch name := t.Name.Local; {
			case len(open) == 1:
				p.Root = name
			case len(open) == 2 && (name == "Version" || name == "DeleteMarker"):
				e = &Entry{DeleteMarker: name == "DeleteMarker", Pos: pos}
				pos++
			case len(open) == 3 && e != nil && name == "UserMetadata":
				e.UserMetadata = &struct{}{}
			}
		case xml.CharData:
			text = append(text, t...)
		case xml.EndElement:
			n := len(open)
			if n == 0 || open[n-1] != t.Name {
				return nil, fmt.Errorf("xml: end element </%s> does not match the open element", t.Name.Local)
			}
			var err error
			switch {
			case n == 3 && e != nil:
				err = e.set(t.Name.Local, text)
			case n == 2 && e != nil:
				if e.DeleteMarker {
					p.DeleteMarkers = append(p.DeleteMarkers, *e)
				} else {
					p.Versions = append(p.Versions, *e)
				}
				e = nil
			case n == 2:
				err = p.set(t.Name.Local, text)
			}
			if err != nil {
				return nil, err
			}
			open = open[:n-1]
			text = text[:0]
		}
	}
	if len(open) > 0 {
		return nil, fmt.Errorf("xml: element <%s> not closed: %w", open[len(open)-1].Local, io.ErrUnexpectedEOF)
	}
	return p, p.decodeNames()
}

// set assigns the page field an element names, as encoding/xml would.
func (p *VersionsPage) set(name string, text []byte) error {
	var err error
	switch name {
	case "IsTruncated":
		p.Truncated, err = parseBool(name, text)
	case "EncodingType":
		p.Encoding = string(text)
	case "KeyMarker":
		p.KeyMarker, p.HasKeyMarker = string(text), true
	case "NextKeyMarker":
		p.NextKeyMarker = string(text)
	case "NextVersionIdMarker":
		p.NextVIDMarker = string(text)
	}
	return err
}

// set assigns the entry field an element names, as encoding/xml would.
func (e *Entry) set(name string, text []byte) error {
	var err error
	switch name {
	case "Key":
		e.Key = string(text)
	case "VersionId":
		e.VersionID = string(text)
	case "IsLatest":
		e.IsLatest, err = parseBool(name, text)
	case "LastModified":
		err = e.LastModified.UnmarshalText(text)
	case "ETag":
		e.ETag = string(text)
	case "Size":
		e.Size, err = parseInt(name, text)
	case "StorageClass":
		e.StorageClass = string(text)
	case "UserTags":
		e.UserTags = string(text)
	}
	if err != nil {
		return fmt.Errorf("xml: element <%s>: %w", name, err)
	}
	return nil
}

func parseBool(name string, text []byte) (bool, error) {
	s := strings.TrimSpace(string(text))
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("xml: element <%s>: %w", name, err)
	}
	return b, nil
}

func parseInt(name string, text []byte) (int64, error) {
	s := strings.TrimSpace(string(text))
	if s == "" {
		return 0, nil
	}
	return strconv.ParseInt(s, 10, 64)
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
