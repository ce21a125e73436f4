package s3source

import (
	"context"
	"sort"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/tags"
)

// ListBuckets returns the names of every bucket the connection's
// credentials can see, sorted.
func (c *Client) ListBuckets(ctx context.Context) ([]string, error) {
	var bs []minio.BucketInfo
	err := c.do(ctx, func(ctx context.Context) error {
		var err error
		bs, err = c.mc.ListBuckets(ctx)
		return err
	})
	if err != nil {
		return nil, wrapErr("list buckets", "", "", "", err)
	}
	names := make([]string, 0, len(bs))
	for _, b := range bs {
		names = append(names, b.Name)
	}
	sort.Strings(names)
	return names, nil
}

// BucketTags returns a bucket's tags (GetBucketTagging); a bucket without
// tags, or an endpoint without bucket tagging, has none. MinIO answers
// NoSuchTagSet even for a missing bucket, so a missing bucket may also
// read as untagged.
func (c *Client) BucketTags(ctx context.Context, bucket string) (map[string]string, error) {
	var t *tags.Tags
	err := c.do(ctx, func(ctx context.Context) error {
		var err error
		t, err = c.mc.GetBucketTagging(ctx, bucket)
		return err
	})
	if err != nil {
		if isAbsentConfig(err) || s3Code(err) == "NoSuchTagSet" || s3Code(err) == "NoSuchTagSetError" {
			return map[string]string{}, nil
		}
		return nil, wrapErr("get bucket tagging", bucket, "", "", err)
	}
	return t.ToMap(), nil
}
