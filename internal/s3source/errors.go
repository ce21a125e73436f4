package s3source

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/minio/minio-go/v7"
)

// OpError is the error of one S3 operation. It wraps the sentinel error
// the failure maps to (if any) and the underlying error.
type OpError struct {
	Op        string // e.g. "get object"
	Bucket    string
	Key       string
	VersionID string
	Code      string // S3 error code, if the endpoint sent one
	Kind      error  // one of the sentinel errors, or nil
	Err       error
}

func (e *OpError) Error() string {
	s := "s3source: " + e.Op + " " + e.Bucket
	if e.Key != "" {
		s += "/" + fmt.Sprintf("%q", e.Key)
	}
	if e.VersionID != "" {
		s += " version " + e.VersionID
	}
	if e.Kind != nil {
		s += ": " + e.Kind.Error()
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns the sentinel kind and the underlying error.
func (e *OpError) Unwrap() []error {
	if e.Kind != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Err}
}

// wrapErr classifies err from an S3 call and wraps it with context.
func wrapErr(op, bucket, key, versionID string, err error) error {
	if err == nil {
		return nil
	}
	var oe *OpError
	if errors.As(err, &oe) {
		return err
	}
	code, kind := classify(err)
	return &OpError{Op: op, Bucket: bucket, Key: key, VersionID: versionID, Code: code, Kind: kind, Err: err}
}

// classify maps an S3 error to its code and sentinel.
func classify(err error) (string, error) {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return "", nil
	}
	resp := minio.ToErrorResponse(err)
	switch resp.Code {
	case "NoSuchBucket":
		return resp.Code, ErrNoSuchBucket
	case "NoSuchKey", "NoSuchVersion":
		return resp.Code, ErrNotFound
	case "AccessDenied", "AllAccessDisabled":
		return resp.Code, ErrAccessDenied
	case "NotImplemented", "XNotImplemented", "NotSupported":
		return resp.Code, ErrNotSupported
	case "BucketAlreadyOwnedByYou", "BucketAlreadyExists":
		return resp.Code, ErrBucketExists
	case "PreconditionFailed":
		return resp.Code, ErrPreconditionFailed
	}
	switch resp.StatusCode {
	case http.StatusNotImplemented:
		return resp.Code, ErrNotSupported
	case http.StatusForbidden:
		return resp.Code, ErrAccessDenied
	case http.StatusPreconditionFailed:
		return resp.Code, ErrPreconditionFailed
	}
	return resp.Code, nil
}

// s3Code is the S3 error code of err, "" if it has none.
func s3Code(err error) string { return minio.ToErrorResponse(err).Code }
