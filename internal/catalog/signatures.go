package catalog

import (
	"context"
	"fmt"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog/internal/catsql"
)

// signaturePurgeInterval spaces the purges of expired signatures: a purge
// per request would be a second write for every mutating call.
const signaturePurgeInterval = time.Minute

// RememberSignature records the signature of an accepted request until
// expires and reports whether it is new; false means that the same
// signature was recorded before and has not been purged (a replay). The
// insert is the test (primary key, ON CONFLICT DO NOTHING), so two
// processes sharing the catalog cannot both take the same signature for
// new. Now and then (once a minute per process) it also removes the
// signatures that expired before purgeBefore.
func (c *DB) RememberSignature(ctx context.Context, signature string, purgeBefore, expires time.Time) (bool, error) {
	at := purgeBefore.UnixNano()
	if next := c.sigPurgeAt.Load(); at >= next && c.sigPurgeAt.CompareAndSwap(next, at+int64(signaturePurgeInterval)) {
		if _, err := c.db.ExecContext(ctx, `DELETE FROM request_signatures WHERE expires_at < ?`, at); err != nil {
			return false, fmt.Errorf("purge expired request signatures: %w", err)
		}
	}
	res, err := c.db.ExecContext(ctx, `INSERT INTO request_signatures (signature, expires_at) VALUES (?, ?)
		ON CONFLICT (signature) DO NOTHING`, signature, catsql.ToNanos(expires))
	if err != nil {
		return false, fmt.Errorf("record request signature: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("record request signature: %w", err)
	}
	return n == 1, nil
}
