package s3events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MaxRecords bounds the records of one request: MinIO sends one per
// request and S3 a handful, so a longer body is not a notification.
const MaxRecords = 1000

// ErrUnknownShape is wrapped by Parse's error when the body is none of the
// shapes coffer reads (or is not JSON); the API answers 400.
var ErrUnknownShape = errors.New("not an S3 event notification coffer reads")

// ErrTooManyRecords is wrapped by Parse's error for a body of more than
// MaxRecords records.
var ErrTooManyRecords = errors.New("too many records in one request")

// Record is one event normalized: which version of which key changed,
// how and when. Key is the object key decoded (never form-encoded).
type Record struct {
	Bucket    string
	Key       string
	VersionID string // "" on an unversioned bucket
	Name      string // the S3 event name without "s3:", e.g. ObjectCreated:Put
	Time      time.Time
	Sequencer string // orders events of one key, when the endpoint sends one
	ETag      string
	Size      int64
}

// envelope holds the fields of every shape; which ones are set tells the
// shape apart.
type envelope struct {
	Records    []s3Record      `json:"Records"`
	Event      string          `json:"Event"`       // S3's s3:TestEvent
	EventName  string          `json:"EventName"`   // MinIO's webhook
	DetailType string          `json:"detail-type"` // EventBridge
	Source     string          `json:"source"`
	Time       string          `json:"time"`
	Detail     json.RawMessage `json:"detail"`
}

// s3Record is a record of the S3 shape, which MinIO's webhook and Ceph
// RGW share.
type s3Record struct {
	EventSource string `json:"eventSource"`
	EventTime   string `json:"eventTime"`
	EventName   string `json:"eventName"`
	S3          struct {
		Bucket struct {
			Name string `json:"name"`
		} `json:"bucket"`
		Object struct {
			Key       string    `json:"key"`
			Size      flexInt64 `json:"size"`
			ETag      string    `json:"eTag"`
			VersionID string    `json:"versionId"`
			Sequencer string    `json:"sequencer"`
		} `json:"object"`
	} `json:"s3"`
}

// flexInt64 reads a number or a string of digits: Ceph RGW sent the size
// as a string in some releases.
type flexInt64 int64

func (f *flexInt64) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*f = 0
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("size %s: not an integer", b)
	}
	*f = flexInt64(n)
	return nil
}

// Parse reads a notification body. A test event (S3's s3:TestEvent,
// MinIO's s3:TestEvent record) gives no records and no error.
func Parse(body []byte) ([]Record, error) {
	var env envelope
	d := json.NewDecoder(bytes.NewReader(body))
	if err := d.Decode(&env); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnknownShape, err)
	}
	switch {
	case env.Records != nil:
		if len(env.Records) > MaxRecords {
			return nil, fmt.Errorf("%w: %d, at most %d", ErrTooManyRecords, len(env.Records), MaxRecords)
		}
		return parseRecords(env.Records)
	case env.Event == "s3:TestEvent":
		return nil, nil
	case env.Source == "aws.s3" && env.DetailType != "":
		return parseEventBridge(env)
	}
	return nil, fmt.Errorf("%w: no Records, no s3:TestEvent and no EventBridge aws.s3 detail-type", ErrUnknownShape)
}

func parseRecords(in []s3Record) ([]Record, error) {
	out := make([]Record, 0, len(in))
	for i, r := range in {
		name := strings.TrimPrefix(r.EventName, "s3:")
		if name == "TestEvent" {
			continue
		}
		if name == "" || r.S3.Bucket.Name == "" || r.S3.Object.Key == "" {
			return nil, fmt.Errorf("%w: record %d lacks eventName, s3.bucket.name or s3.object.key", ErrUnknownShape, i)
		}
		key, err := recordKey(r)
		if err != nil {
			return nil, fmt.Errorf("%w: record %d: %v", ErrUnknownShape, i, err)
		}
		at, err := parseTime(r.EventTime)
		if err != nil {
			return nil, fmt.Errorf("%w: record %d: %v", ErrUnknownShape, i, err)
		}
		o := r.S3.Object
		out = append(out, Record{Bucket: r.S3.Bucket.Name, Key: key, VersionID: o.VersionID, Name: name,
			Time: at, Sequencer: o.Sequencer, ETag: strings.Trim(o.ETag, `"`), Size: int64(o.Size)})
	}
	return out, nil
}

// recordKey decodes s3.object.key: S3 and MinIO form-encode it (a space
// is "+"), Ceph RGW sends it as it is.
func recordKey(r s3Record) (string, error) {
	if strings.HasPrefix(r.EventSource, "ceph:") {
		return r.S3.Object.Key, nil
	}
	k, err := url.QueryUnescape(r.S3.Object.Key)
	if err != nil {
		// The error would quote part of the key: keys stay out of messages.
		return "", errors.New("s3.object.key is not form-encoded")
	}
	return k, nil
}

// ebDetail is the detail of an EventBridge S3 event.
type ebDetail struct {
	Bucket struct {
		Name string `json:"name"`
	} `json:"bucket"`
	Object struct {
		Key       string    `json:"key"`
		Size      flexInt64 `json:"size"`
		ETag      string    `json:"etag"`
		VersionID string    `json:"version-id"`
		Sequencer string    `json:"sequencer"`
	} `json:"object"`
	Reason       string `json:"reason"`
	DeletionType string `json:"deletion-type"`
}

// ebNames maps the EventBridge detail types that change what a bucket
// holds to S3 event names; other aws.s3 detail types (restores, storage
// class changes) are accepted and dropped.
var ebNames = map[string]string{
	"Object Created":      "ObjectCreated:",
	"Object Deleted":      "ObjectRemoved:",
	"Object Tags Added":   "ObjectTagging:Put",
	"Object Tags Deleted": "ObjectTagging:Delete",
}

func parseEventBridge(env envelope) ([]Record, error) {
	prefix, ok := ebNames[env.DetailType]
	if !ok {
		return nil, nil
	}
	var d ebDetail
	if err := json.Unmarshal(env.Detail, &d); err != nil || d.Bucket.Name == "" || d.Object.Key == "" {
		return nil, fmt.Errorf("%w: EventBridge %q without detail.bucket.name and detail.object.key", ErrUnknownShape, env.DetailType)
	}
	at, err := parseTime(env.Time)
	if err != nil {
		return nil, fmt.Errorf("%w: EventBridge: %v", ErrUnknownShape, err)
	}
	name := prefix
	switch env.DetailType {
	case "Object Created":
		name += d.Reason // PutObject, CopyObject, CompleteMultipartUpload
	case "Object Deleted":
		name += ebDeletion(d.DeletionType)
	}
	o := d.Object
	return []Record{{Bucket: d.Bucket.Name, Key: o.Key, VersionID: o.VersionID, Name: name, Time: at,
		Sequencer: o.Sequencer, ETag: strings.Trim(o.ETag, `"`), Size: int64(o.Size)}}, nil
}

// ebDeletion names an EventBridge deletion-type as S3's event names do.
func ebDeletion(t string) string {
	switch t {
	case "Delete Marker Created":
		return "DeleteMarkerCreated"
	case "Permanently Deleted":
		return "Delete"
	}
	return strings.ReplaceAll(t, " ", "")
}

// parseTime reads an event time (RFC 3339, fractional seconds optional).
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("event time %q is not RFC 3339", s)
	}
	// The catalog stores nanoseconds since 1970 in an int64.
	if t.Year() < 1970 || t.Year() > 2200 {
		return time.Time{}, fmt.Errorf("event time %q is not between 1970 and 2200", s)
	}
	return t.UTC(), nil
}
