package s3source

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/cofferbackup/coffer/internal/s3source/s3xml"
)

// ListObjectVersions pages are requested and parsed here rather than
// through minio-go's iterator, which cannot repair what some endpoints do:
//
//   - versitygw (v1.8.0) writes all DeleteMarker elements of a page before
//     all Version elements, so document order is not listing order; the two
//     lists are merged back here (mergeEntries).
//   - versitygw repeats the entry named by version-id-marker when it is a
//     key's current version; repeats are dropped (lister.emit).
//   - versitygw decodes key-marker twice ("+" becomes " ", "%25" becomes
//     "%"), which would silently skip or repeat keys; the echoed KeyMarker
//     is checked and the marker re-sent escaped once more (lister.page).

// listEntry and versionsPage are the parsed page's shapes (package s3xml).
type (
	listEntry    = s3xml.Entry
	versionsPage = s3xml.VersionsPage
)

var errListMarker = errors.New("endpoint misreads listing markers")

// fetchVersionsPage requests and parses one page.
func (c *Client) fetchVersionsPage(ctx context.Context, bucket, prefix, keyMarker, vidMarker string, maxKeys int, meta bool) (*versionsPage, error) {
	q := url.Values{"versions": {""}, "encoding-type": {"url"}}
	if meta {
		q.Set("metadata", "true")
	}
	if prefix != "" {
		q.Set("prefix", prefix)
	}
	if keyMarker != "" {
		q.Set("key-marker", keyMarker)
	}
	if vidMarker != "" {
		q.Set("version-id-marker", vidMarker)
	}
	if maxKeys > 0 {
		q.Set("max-keys", strconv.Itoa(maxKeys))
	}
	var p *s3xml.VersionsPage
	err := c.do(ctx, func(ctx context.Context) error {
		resp, err := c.rawDo(ctx, http.MethodGet, bucket, "", q, nil)
		if err != nil {
			return err
		}
		defer func() { _ = resp.Body.Close() }()
		// A page cut short parses as an error and is asked for again.
		if p, err = s3xml.ParseVersionsPage(resp.Body); err != nil {
			return fmt.Errorf("parse ListObjectVersions answer: %w", err)
		}
		return nil
	})
	return p, err
}

// doubleEscape escapes a marker once more for endpoints that decode query
// values twice.
func doubleEscape(s string) string { return url.QueryEscape(s) }
