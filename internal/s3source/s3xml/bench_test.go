package s3xml

import (
	"bytes"
	"fmt"
	"testing"
)

// minioPage is a ListVersionsResult of n versions as MinIO answers a
// listing with metadata=true: every version with its user metadata, a
// third with tags.
func minioPage(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bench</Name><Prefix></Prefix>` +
		`<KeyMarker></KeyMarker><VersionIdMarker></VersionIdMarker><NextKeyMarker>small/000999</NextKeyMarker>` +
		`<NextVersionIdMarker>5b0e7a5c-6f2e-4b9e-9f4a-2b2c7d1e0f11</NextVersionIdMarker><MaxKeys>1000</MaxKeys>` +
		`<Delimiter></Delimiter><IsTruncated>true</IsTruncated>`)
	for i := range n {
		fmt.Fprintf(&b, `<Version><Key>small/%06d</Key><VersionId>5b0e7a5c-6f2e-4b9e-9f4a-%012d</VersionId>`+
			`<IsLatest>true</IsLatest><LastModified>2026-12-01T20:57:%02d.%03dZ</LastModified>`+
			`<ETag>&#34;0c8b1f8e1f9d3a4b5c6d7e8f9a0b1c2d&#34;</ETag><Size>65536</Size>`+
			`<Owner><ID>02d6176db174dc93cb1b899f7c6078f08654445fe8cf1b6ce98d8855f66bdbf4</ID><DisplayName>minio</DisplayName></Owner>`+
			`<StorageClass>STANDARD</StorageClass><UserMetadata><content-type>application/octet-stream</content-type>`+
			`<X-Amz-Meta-Project>coffer-%d</X-Amz-Meta-Project></UserMetadata>`, i, i, i%60, i%1000, i)
		if i%3 == 0 {
			fmt.Fprintf(&b, `<UserTags>env=prod&amp;n=%d</UserTags>`, i)
		}
		b.WriteString(`</Version>`)
	}
	b.WriteString(`<EncodingType>url</EncodingType></ListVersionsResult>`)
	return b.Bytes()
}

// BenchmarkParseVersionsPage decodes a page of 1,000 versions listed
// with metadata, what an incremental reads per 1,000 objects.
func BenchmarkParseVersionsPage(b *testing.B) {
	doc := minioPage(1000)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := ParseVersionsPage(bytes.NewReader(doc))
		if err != nil || len(p.Versions) != 1000 {
			b.Fatalf("%d versions, %v", len(p.Versions), err)
		}
	}
}
