package s3xml

import (
	"bytes"
	"encoding/xml"
	"io"
	"reflect"
	"testing"
)

// referenceParse is the reflection-based decoder ParseVersionsPage
// replaced (DecodeElement per entry), kept to hold the new one to its
// answers.
func referenceParse(r io.Reader) (*VersionsPage, error) {
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
			if err := referenceChild(p, dec, t, &pos); err != nil {
				return nil, err
			}
			depth--
		case xml.EndElement:
			depth--
		}
	}
	return p, p.decodeNames()
}

func referenceChild(p *VersionsPage, dec *xml.Decoder, t xml.StartElement, pos *int) error {
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
		return dec.DecodeElement(&p.Truncated, &t)
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

var pageSeeds = []string{
	string(minioPage(3)),
	`<ListVersionsResult><IsTruncated> false </IsTruncated><KeyMarker></KeyMarker>` +
		`<Version><Key>a&amp;b&lt;c&#x41;&#34;</Key><Size> 12 </Size><IsLatest>1</IsLatest>` +
		`<LastModified>2024-01-02T03:04:05.678Z</LastModified><ETag>"e"</ETag></Version>` +
		`<DeleteMarker><Key><![CDATA[x<y]]></Key><VersionId>v</VersionId><IsLatest>true</IsLatest>` +
		`<LastModified>2024-01-02T03:04:06Z</LastModified></DeleteMarker>` +
		`<!-- a comment --><?pi x?><CommonPrefixes><Prefix>p/</Prefix></CommonPrefixes></ListVersionsResult>`,
	`<s3:ListVersionsResult xmlns:s3="urn:x"><s3:Version><s3:Key>k</s3:Key><s3:Owner><s3:ID>o</s3:ID></s3:Owner>` +
		`<s3:UserMetadata/><s3:UserTags>a=b</s3:UserTags></s3:Version></s3:ListVersionsResult>`,
	`<ListVersionsResult><Version><Key>a</Key><Key>b</Key><Size></Size><IsLatest></IsLatest>` +
		`<LastModified>2024-01-02T03:04:05Z</LastModified></Version><EncodingType>url</EncodingType></ListVersionsResult>`,
	`<ListVersionsResult><Version><Size>x</Size></Version></ListVersionsResult>`,
	`<ListVersionsResult><Version><IsLatest>maybe</IsLatest></Version></ListVersionsResult>`,
	`<ListVersionsResult><Version><LastModified>yesterday</LastModified></Version></ListVersionsResult>`,
	`<ListVersionsResult><Version><Key>a</Size></Version></ListVersionsResult>`,
	`<ListVersionsResult><Version><Key>a</Key>`,
	`<ListVersionsResult><EncodingType>url</EncodingType><Version><Key>%zz</Key></Version></ListVersionsResult>`,
	`<ListBucketResult><Contents><Key>k</Key></Contents></ListBucketResult>`,
	``,
}

// TestParseVersionsPageMatchesReference: on pages with entities, CDATA,
// comments, namespaces, repeated and empty fields, and broken ones, the
// decoder sets what encoding/xml's reflection set and fails where it
// failed.
func TestParseVersionsPageMatchesReference(t *testing.T) {
	for _, doc := range pageSeeds {
		checkAgainstReference(t, []byte(doc))
	}
}

func FuzzParseVersionsPage(f *testing.F) {
	for _, doc := range pageSeeds {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, doc []byte) { checkAgainstReference(t, doc) })
}

func checkAgainstReference(t *testing.T, doc []byte) {
	t.Helper()
	want, werr := referenceParse(bytes.NewReader(doc))
	got, gerr := ParseVersionsPage(bytes.NewReader(doc))
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("%q: error %v, reference %v", doc, gerr, werr)
	}
	if werr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n got %+v\nwant %+v", doc, got, want)
	}
}
