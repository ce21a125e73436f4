package catalog

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/cofferbackup/coffer/internal/vocab"
)

// SetTags adds or replaces tags of a resource (vault, plan, recovery point).
func (c *DB) SetTags(ctx context.Context, arn string, tags map[string]string) error {
	if len(tags) == 0 {
		return nil
	}
	return c.inTx(ctx, func(tx *sql.Tx) error { return upsertTags(ctx, tx, arn, tags) })
}

// AddTags adds or replaces tags of a resource, refusing (vocab's
// ErrLimitExceeded, nothing written) a change that leaves it more than
// vocab.MaxTags; the count is taken in the transaction that writes them,
// which first locks the resource's tags (PostgreSQL: two concurrent
// additions could otherwise both pass the count).
func (c *DB) AddTags(ctx context.Context, arn string, tags map[string]string) error {
	if len(tags) == 0 {
		return nil
	}
	return c.inTx(ctx, func(tx *sql.Tx) error {
		if err := c.LockKeys(ctx, tx, tagsKey(arn)); err != nil {
			return err
		}
		if err := upsertTags(ctx, tx, arn, tags); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM resource_tags WHERE resource_arn = ?`, arn).Scan(&n); err != nil {
			return fmt.Errorf("count tags of %s: %w", arn, err)
		}
		return vocab.CheckTagCount(n)
	})
}

func tagsKey(arn string) string { return "tags:" + arn }

func upsertTags(ctx context.Context, tx *sql.Tx, arn string, tags map[string]string) error {
	for k, v := range tags {
		if _, err := tx.ExecContext(ctx, `INSERT INTO resource_tags (resource_arn, tag_key, tag_value) VALUES (?, ?, ?)
			ON CONFLICT (resource_arn, tag_key) DO UPDATE SET tag_value = excluded.tag_value`, arn, k, v); err != nil {
			return fmt.Errorf("tag %s: %w", arn, err)
		}
	}
	return nil
}

// RemoveTags removes the given tag keys of a resource; absent keys are ignored.
func (c *DB) RemoveTags(ctx context.Context, arn string, keys []string) error {
	return c.inTx(ctx, func(tx *sql.Tx) error {
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, `DELETE FROM resource_tags WHERE resource_arn = ? AND tag_key = ?`, arn, k); err != nil {
				return fmt.Errorf("untag %s: %w", arn, err)
			}
		}
		return nil
	})
}

// DeleteAllTags removes every tag of a deleted resource.
func (c *DB) DeleteAllTags(ctx context.Context, arn string) error {
	if _, err := c.db.ExecContext(ctx, `DELETE FROM resource_tags WHERE resource_arn = ?`, arn); err != nil {
		return fmt.Errorf("delete tags of %s: %w", arn, err)
	}
	return nil
}

// Tags returns a resource's tags.
func (c *DB) Tags(ctx context.Context, arn string) (map[string]string, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT tag_key, tag_value FROM resource_tags WHERE resource_arn = ? ORDER BY tag_key`, arn)
	if err != nil {
		return nil, fmt.Errorf("read tags of %s: %w", arn, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("read tags of %s: %w", arn, err)
		}
		out[k] = v
	}
	return out, rows.Err()
}

// ProtectedResources lists every resource with a recovery point, by ARN,
// each with its newest recovery point.
func (c *DB) ProtectedResources(ctx context.Context, resourceARN string, p Page) ([]RecoveryPoint, string, error) {
	q := `SELECT ` + rpSelect + ` FROM recovery_points rp WHERE created_at = (SELECT MAX(created_at) FROM recovery_points r2 WHERE r2.resource_arn = rp.resource_arn)`
	var args []any
	if resourceARN != "" {
		q += ` AND resource_arn = ?`
		args = append(args, resourceARN)
	}
	return QueryPage(ctx, c, "protected resources", q+` ORDER BY resource_arn, arn`, args, p, scanRP)
}
