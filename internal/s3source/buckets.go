package s3source

import (
	"context"
	"sort"
)

// ListBuckets returns the names of every bucket the connection's
// credentials can see, sorted.
func (c *Client) ListBuckets(ctx context.Context) ([]string, error) {
	bs, err := c.mc.ListBuckets(ctx)
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
	t, err := c.mc.GetBucketTagging(ctx, bucket)
	if err != nil {
		if isAbsentConfig(err) || s3Code(err) == "NoSuchTagSet" || s3Code(err) == "NoSuchTagSetError" {
			return map[string]string{}, nil
		}
		return nil, wrapErr("get bucket tagging", bucket, "", "", err)
	}
	return t.ToMap(), nil
}
