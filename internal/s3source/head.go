package s3source

import (
	"context"
	"net/http"
	"net/url"
)

// Head returns one version's metadata as GetObject would (the same
// headers, read the same way), without its data: what a rollback compares
// with a recorded version. versionID "" reads the current version;
// ErrNotFound if there is no such version.
func (c *Client) Head(ctx context.Context, bucket, key, versionID string) (ObjectMeta, error) {
	q := url.Values{}
	if versionID != "" {
		q.Set("versionId", versionParam(versionID))
	}
	var m ObjectMeta
	err := c.do(ctx, func(ctx context.Context) error {
		resp, err := c.rawDo(ctx, http.MethodHead, bucket, key, q, nil)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		m = metaFromHeader(resp.Header)
		m.VersionID = resp.Header.Get("X-Amz-Version-Id")
		return nil
	})
	if err != nil {
		return ObjectMeta{}, wrapErr("head object", bucket, key, versionID, err)
	}
	return m, nil
}
