package s3source

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"

	"github.com/minio/minio-go/v7"

	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/s3source/s3xml"
)

// minio-go has no PutObjectAcl, and its GetObjectACL ignores version ids
// and adds a HEAD of the current version; so object ACLs are read and
// written here with SigV4-signed requests of their own.

// ACL returns a version's ACL; ErrNotSupported if the endpoint lacks GetObjectAcl.
func (c *Client) ACL(ctx context.Context, bucket, key, versionID string) (*recpoint.ACL, error) {
	q := url.Values{"acl": {""}}
	if v := versionParam(versionID); v != "" {
		q.Set("versionId", v)
	}
	body, err := c.rawRequest(ctx, http.MethodGet, bucket, key, q, nil)
	if err != nil {
		return nil, wrapErr("get object acl", bucket, key, versionID, err)
	}
	acl, err := s3xml.DecodeACL(body)
	if err != nil {
		return nil, wrapErr("get object acl", bucket, key, versionID, err)
	}
	return acl, nil
}

// PutACL sets a version's ACL; ErrNotSupported if the endpoint lacks PutObjectAcl.
func (c *Client) PutACL(ctx context.Context, bucket, key, versionID string, acl *recpoint.ACL) error {
	if acl == nil {
		return fmt.Errorf("s3source: put object acl %s/%q: nil ACL", bucket, key)
	}
	q := url.Values{"acl": {""}}
	if v := versionParam(versionID); v != "" {
		q.Set("versionId", v)
	}
	if _, err := c.rawRequest(ctx, http.MethodPut, bucket, key, q, s3xml.EncodeACL(acl)); err != nil {
		return wrapErr("put object acl", bucket, key, versionID, err)
	}
	return nil
}

// errorFromResponse decodes an S3 error body, or makes one from the status.
func errorFromResponse(status int, data []byte, bucket, key string) minio.ErrorResponse {
	var er minio.ErrorResponse
	if err := xml.Unmarshal(data, &er); err != nil || er.Code == "" {
		er = minio.ErrorResponse{Message: http.StatusText(status)}
		switch status {
		case http.StatusNotFound:
			er.Code = "NoSuchKey"
		case http.StatusForbidden:
			er.Code = "AccessDenied"
		case http.StatusNotImplemented:
			er.Code = "NotImplemented"
		case http.StatusMethodNotAllowed:
			er.Code = "MethodNotAllowed"
		default:
			er.Code = fmt.Sprintf("HTTP%d", status)
		}
	}
	er.StatusCode = status
	if er.BucketName == "" {
		er.BucketName = bucket
	}
	if er.Key == "" {
		er.Key = key
	}
	return er
}
