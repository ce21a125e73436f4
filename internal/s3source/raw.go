package s3source

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7/pkg/s3utils"
	"github.com/minio/minio-go/v7/pkg/signer"
)

// Requests minio-go cannot make the way coffer needs (object ACLs, version
// listings with page-level control) are sent here, SigV4-signed with
// minio-go's signer.

const maxSmallBody = 1 << 20

// rawDo sends one signed request for bucket (and key, if not empty) and
// returns the response of a 2xx answer; the caller closes its body. Other
// answers become a minio.ErrorResponse. It tries once: callers run it under
// the connection's retry policy (Client.do).
func (c *Client) rawDo(ctx context.Context, method, bucket, key string, q url.Values, body []byte) (*http.Response, error) {
	resp, err := c.rawOnce(ctx, method, bucket, key, q, body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxSmallBody))
	_ = resp.Body.Close()
	return nil, errorFromResponse(resp.StatusCode, data, bucket, key)
}

func (c *Client) rawOnce(ctx context.Context, method, bucket, key string, q url.Values, body []byte) (*http.Response, error) {
	u := *c.endpoint
	u.Path = "/" + bucket + "/" + key
	u.RawPath = "/" + bucket + "/" + s3utils.EncodePath(key)
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.URL = &u // keep RawPath exactly as encoded above
	req.Host = u.Host
	sum := sha256.Sum256(body)
	req.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
	req.Header.Set("User-Agent", "coffer s3source")
	if body != nil {
		md := md5.Sum(body)
		req.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString(md[:]))
		req.Header.Set("Content-Type", "application/xml")
		req.ContentLength = int64(len(body))
	} else {
		req.Body = http.NoBody
		req.ContentLength = 0
	}
	req = signer.SignV4(*req, c.cfg.AccessKey, c.cfg.SecretKey, "", c.cfg.Region)
	return c.httpc.Do(req)
}

// rawRequest is rawDo for small answers, under the retry policy: it
// returns the body.
func (c *Client) rawRequest(ctx context.Context, method, bucket, key string, q url.Values, body []byte) ([]byte, error) {
	var out []byte
	err := c.do(ctx, func(ctx context.Context) error {
		resp, err := c.rawDo(ctx, method, bucket, key, q, body)
		if err != nil {
			return err
		}
		defer func() { _ = resp.Body.Close() }()
		out, err = io.ReadAll(io.LimitReader(resp.Body, maxSmallBody))
		return err
	})
	return out, err
}
