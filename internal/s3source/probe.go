package s3source

import (
	"context"
	"net/http"
	"strings"
)

// Capabilities are what a backup run asks an endpoint once, per bucket and
// connection, instead of finding out object by object.
type Capabilities struct {
	// Server is the endpoint's Server header ("MinIO", "VERSITYGW", "AmazonS3").
	Server string
	// ACLsFixed: the endpoint answers every GetObjectAcl with one fixed
	// ACL and refuses to set any other (MinIO: PutObjectAcl accepts only
	// "private"), so an ACL read from it has nothing to restore.
	ACLsFixed bool
	// MetadataListing: the endpoint lists versions with their user
	// metadata and tags (MinIO's metadata=true). Each listed version still
	// says whether it came so (Version.Listed).
	MetadataListing bool
}

// Probe asks the endpoint what it can do with one HeadBucket: the answer's
// Server header names it. Nothing is written: a probe by PutObjectAcl
// would change ACLs on an endpoint that honours them.
func (c *Client) Probe(ctx context.Context, bucket string) (Capabilities, error) {
	var server string
	err := c.do(ctx, func(ctx context.Context) error {
		resp, err := c.rawDo(ctx, http.MethodHead, bucket, "", nil, nil)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		server = resp.Header.Get("Server")
		return nil
	})
	if err != nil {
		return Capabilities{}, wrapErr("head bucket", bucket, "", "", err)
	}
	minio := strings.EqualFold(server, "MinIO")
	return Capabilities{Server: server, ACLsFixed: minio, MetadataListing: minio}, nil
}
