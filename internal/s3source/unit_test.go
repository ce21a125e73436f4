package s3source

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/s3source/s3xml"

	"github.com/minio/minio-go/v7"

	"github.com/cofferbackup/coffer/internal/recpoint"
)

func TestNewValidates(t *testing.T) {
	good := []Config{
		{Endpoint: "http://127.0.0.1:9000", AccessKey: "a", SecretKey: "b"},
		{Endpoint: "https://s3.example.com/", AccessKey: "a", SecretKey: "b", Region: "eu-west-1", PartSize: 5 << 20},
		{Endpoint: "http://anonymous.example"},
	}
	for _, cfg := range good {
		c, err := New(cfg)
		if err != nil {
			t.Errorf("New(%+v): %v", cfg, err)
			continue
		}
		if c.Region() == "" || c.cfg.PartSize == 0 || strings.HasSuffix(c.Endpoint(), "/") {
			t.Errorf("New(%+v): region %q part size %d endpoint %q", cfg, c.Region(), c.cfg.PartSize, c.Endpoint())
		}
	}
	bad := []Config{
		{Endpoint: ""}, {Endpoint: "ftp://x"}, {Endpoint: "127.0.0.1:9000"}, {Endpoint: "http://"},
		{Endpoint: "http://x/path"}, {Endpoint: "http://x?q=1"}, {Endpoint: "http://u:p@x"},
		{Endpoint: "http://x", AccessKey: "only"}, {Endpoint: "http://x", SecretKey: "only"},
		{Endpoint: "http://x", PartSize: 1 << 20}, {Endpoint: "http://x", PartSize: 6 << 30},
	}
	for _, cfg := range bad {
		if _, err := New(cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("New(%+v) = %v, want ErrInvalidConfig", cfg, err)
		}
	}
	c, _ := New(Config{Endpoint: "http://x"})
	if c.Region() != "us-east-1" || c.cfg.PartSize != 8<<20 {
		t.Errorf("defaults: region %q part size %d", c.Region(), c.cfg.PartSize)
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		err  error
		want error
	}{
		{minio.ErrorResponse{Code: "NoSuchBucket", StatusCode: 404}, ErrNoSuchBucket},
		{minio.ErrorResponse{Code: "NoSuchKey", StatusCode: 404}, ErrNotFound},
		{minio.ErrorResponse{Code: "NoSuchVersion", StatusCode: 404}, ErrNotFound},
		{minio.ErrorResponse{Code: "AccessDenied", StatusCode: 403}, ErrAccessDenied},
		{minio.ErrorResponse{Code: "SignatureDoesNotMatch", StatusCode: 403}, ErrAccessDenied},
		{minio.ErrorResponse{Code: "NotImplemented", StatusCode: 501}, ErrNotSupported},
		{minio.ErrorResponse{Code: "Whatever", StatusCode: 501}, ErrNotSupported},
		{minio.ErrorResponse{Code: "BucketAlreadyOwnedByYou", StatusCode: 409}, ErrBucketExists},
		{minio.ErrorResponse{Code: "BucketAlreadyExists", StatusCode: 409}, ErrBucketExists},
		{minio.ErrorResponse{Code: "InternalError", StatusCode: 500}, nil},
		{errors.New("network down"), nil},
	}
	for _, tc := range cases {
		err := wrapErr("op", "b", "k", "v", tc.err)
		for _, s := range []error{ErrNoSuchBucket, ErrNotFound, ErrAccessDenied, ErrNotSupported, ErrBucketExists} {
			if errors.Is(err, s) != (s == tc.want) {
				t.Errorf("%v: errors.Is(%v) = %v", tc.err, s, !(s == tc.want))
			}
		}
		if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), `b/"k" version v`) {
			t.Errorf("%v: wrapped error %q loses the cause or context", tc.err, err)
		}
	}
	if wrapErr("op", "b", "", "", nil) != nil {
		t.Error("wrapErr(nil) != nil")
	}
}

func TestMetaFromHeader(t *testing.T) {
	h := http.Header{}
	h.Set("ETag", `"abc-2"`)
	h.Set("Content-Length", "42")
	h.Set("Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT")
	h.Set("Content-Type", "text/plain")
	h.Set("Expires", "not a date")
	h.Set("X-Amz-Meta-Hello", "World")
	h.Set("X-Amz-Meta-", "ignored: no name")
	h.Set("X-Amz-Checksum-Crc64nvme", "AAAAAAAAAAA=")
	h.Set("X-Amz-Checksum-Sha256", "c2hh")
	h.Set("X-Amz-Storage-Class", "GLACIER")
	m := metaFromHeader(h)
	if m.ETag != "abc-2" || m.Size != 42 || m.ContentType != "text/plain" || m.Expires != "not a date" ||
		m.StorageClass != "GLACIER" || m.TagCount != -1 || !m.LastModified.Equal(time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC)) {
		t.Errorf("meta %+v", m)
	}
	if len(m.UserMetadata) != 1 || m.UserMetadata["hello"] != "World" {
		t.Errorf("user metadata %v", m.UserMetadata)
	}
	if len(m.Checksums) != 2 || m.Checksums["CRC64NVME"] != "AAAAAAAAAAA=" || m.Checksums["SHA256"] != "c2hh" {
		t.Errorf("checksums %v", m.Checksums)
	}
	h.Set("X-Amz-Tagging-Count", "0")
	if m := metaFromHeader(h); m.TagCount != 0 {
		t.Errorf("TagCount %d, want 0", m.TagCount)
	}
}

func TestPutOptions(t *testing.T) {
	rec := &recpoint.Record{
		ContentType: "a/b", Expires: "Thu, 01 Dec 1994 16:00:00 GMT", StorageClass: "STANDARD",
		UserMetadata: map[string]string{"Cache-Control": "user", "k": "v"}, Tags: map[string]string{"t": "1"},
	}
	o := putOptions(rec, false, 8<<20)
	if o.ContentType != "a/b" || !o.Expires.Equal(time.Date(1994, 12, 1, 16, 0, 0, 0, time.UTC)) ||
		o.StorageClass != "" || o.UserTags != nil || o.PartSize != 8<<20 || o.NumThreads != putThreads {
		t.Errorf("options %+v", o)
	}
	if len(o.UserMetadata) != 2 || o.UserMetadata["x-amz-meta-cache-control"] != "user" || o.UserMetadata["x-amz-meta-k"] != "v" {
		t.Errorf("user metadata %v", o.UserMetadata)
	}
	if h := o.Header(); h.Get("Cache-Control") != "" || h.Get("X-Amz-Meta-Cache-Control") != "user" {
		t.Errorf("headers %v", h)
	}
	rec = &recpoint.Record{Expires: "garbage", StorageClass: "GLACIER_IR", Tags: map[string]string{"t": "1"}}
	o = putOptions(rec, true, 8<<20)
	if !o.Expires.IsZero() || o.StorageClass != "GLACIER_IR" || o.UserTags["t"] != "1" || o.ContentType != "application/octet-stream" {
		t.Errorf("options %+v", o)
	}
}

func TestExactReader(t *testing.T) {
	read := func(data string, size int64) (string, error) {
		var out bytes.Buffer
		_, err := io.Copy(&out, &exactReader{r: strings.NewReader(data), left: size})
		return out.String(), err
	}
	if got, err := read("hello", 5); got != "hello" || err != nil {
		t.Errorf("exact: %q %v", got, err)
	}
	if _, err := read("hel", 5); !errors.Is(err, ErrSizeMismatch) {
		t.Errorf("short: %v", err)
	}
	if _, err := read("hello!", 5); !errors.Is(err, ErrSizeMismatch) {
		t.Errorf("long: %v", err)
	}
	if got, err := read("", 0); got != "" || err != nil {
		t.Errorf("empty: %q %v", got, err)
	}
	e := &exactReader{r: strings.NewReader("abc"), left: 3}
	if _, err := e.Seek(0, io.SeekStart); err != nil {
		t.Errorf("rewind before reading: %v", err)
	}
	_, _ = e.Read(make([]byte, 1))
	if _, err := e.Seek(0, io.SeekStart); !errors.Is(err, errNoRewind) {
		t.Errorf("rewind after reading: %v", err)
	}
}

const listXML = `<?xml version="1.0" encoding="UTF-8"?>
<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
<Name>b</Name><KeyMarker>m%2Bk</KeyMarker><NextKeyMarker>z+z%2B</NextKeyMarker>
<NextVersionIdMarker>v9</NextVersionIdMarker><IsTruncated>true</IsTruncated>
<Version><Key>a+b%2Bc</Key><VersionId>v1</VersionId><IsLatest>true</IsLatest>
<LastModified>2024-01-02T03:04:05.678Z</LastModified><ETag>&#34;e1&#34;</ETag><Size>7</Size>
<Owner><ID>x</ID></Owner><StorageClass>STANDARD</StorageClass></Version>
<DeleteMarker><Key>b</Key><VersionId>v2</VersionId><IsLatest>true</IsLatest>
<LastModified>2024-01-02T03:04:06Z</LastModified></DeleteMarker>
<CommonPrefixes><Prefix>p/</Prefix></CommonPrefixes>
<EncodingType>url</EncodingType></ListVersionsResult>`

func TestParseVersionsPage(t *testing.T) {
	p, err := s3xml.ParseVersionsPage(strings.NewReader(listXML))
	if err != nil {
		t.Fatal(err)
	}
	if p.Root != "ListVersionsResult" || !p.Truncated || p.KeyMarker != "m+k" || p.NextKeyMarker != "z z+" || p.NextVIDMarker != "v9" {
		t.Errorf("page %+v", p)
	}
	es := s3xml.MergeEntries(p.Versions, p.DeleteMarkers)
	if len(es) != 2 {
		t.Fatalf("entries %+v", es)
	}
	v, err := entryVersion(es[0])
	if err != nil {
		t.Fatal(err)
	}
	d, err := entryVersion(es[1])
	if err != nil {
		t.Fatal(err)
	}
	if v.Key != "a b+c" || v.VersionID != "v1" || !v.IsLatest || v.ETag != "e1" || v.Size != 7 || v.StorageClass != "STANDARD" ||
		!v.LastModified.Equal(time.Date(2024, 1, 2, 3, 4, 5, 678e6, time.UTC)) {
		t.Errorf("version %+v", v)
	}
	if d.Key != "b" || !d.DeleteMarker || d.Size != 0 || d.ETag != "" {
		t.Errorf("delete marker %+v", d)
	}
	if _, err := s3xml.ParseVersionsPage(strings.NewReader("<ListVersionsResult><Version><Size>x</Size></Version>")); err == nil {
		t.Error("bad XML accepted")
	}
	p, err = s3xml.ParseVersionsPage(strings.NewReader(`<ListBucketResult><Contents><Key>k</Key></Contents></ListBucketResult>`))
	if err != nil || p.Root != "ListBucketResult" || len(p.Versions) != 0 {
		t.Errorf("plain listing: %+v %v", p, err)
	}
}

func TestOrderCheck(t *testing.T) {
	var o orderCheck
	steps := []struct {
		key, vid string
		dup, bad bool
	}{
		{"a", "1", false, false}, {"a", "2", false, false}, {"a", "1", true, false},
		{"b", "1", false, false}, {"a", "3", false, true},
	}
	for i, s := range steps {
		dup, err := o.next(Version{Key: s.key, VersionID: s.vid})
		if dup != s.dup || (err != nil) != s.bad || (err != nil && !errors.Is(err, errListOrder)) {
			t.Errorf("step %d (%s/%s): dup %v err %v", i, s.key, s.vid, dup, err)
		}
	}
}

func TestErrorFromResponse(t *testing.T) {
	er := errorFromResponse(404, []byte(`<Error><Code>NoSuchVersion</Code><Message>m</Message></Error>`), "b", "k")
	if er.Code != "NoSuchVersion" || er.StatusCode != 404 || er.BucketName != "b" || er.Key != "k" {
		t.Errorf("%+v", er)
	}
	for status, code := range map[int]string{404: "NoSuchKey", 403: "AccessDenied", 501: "NotImplemented", 405: "MethodNotAllowed", 418: "HTTP418"} {
		if er := errorFromResponse(status, nil, "b", "k"); er.Code != code {
			t.Errorf("status %d: code %q, want %q", status, er.Code, code)
		}
	}
}
