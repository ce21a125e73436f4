package connstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/internal/catsql"
)

// Connection is a named S3 connection as the catalog keeps it: its secret
// sealed (package connections seals and opens it).
type Connection struct {
	Name, Endpoint, Region, AccessKey string
	SecretSealed                      string
	VirtualHosted                     bool
	CAPEM                             string
	CreatedAt                         time.Time
}

const connCols = `name, endpoint, region, access_key, secret_sealed, virtual_hosted, ca_pem, created_at`

func scanConnection(s catsql.Scanner) (Connection, error) {
	var cn Connection
	var vh, created int64
	err := s.Scan(&cn.Name, &cn.Endpoint, &cn.Region, &cn.AccessKey, &cn.SecretSealed, &vh, &cn.CAPEM, &created)
	cn.VirtualHosted, cn.CreatedAt = vh != 0, catsql.FromNanos(created)
	return cn, err
}

// CreateConnection inserts c; ErrExists if the name is taken.
func (s *Store) CreateConnection(ctx context.Context, cn Connection) error {
	vh := 0
	if cn.VirtualHosted {
		vh = 1
	}
	_, err := s.db.SQL().ExecContext(ctx, `INSERT INTO connections (`+connCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		cn.Name, cn.Endpoint, cn.Region, cn.AccessKey, cn.SecretSealed, vh, cn.CAPEM, catsql.ToNanos(cn.CreatedAt))
	if catalog.IsUniqueViolation(err) {
		return fmt.Errorf("connection %q: %w", cn.Name, catalog.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("insert connection %q: %w", cn.Name, err)
	}
	return nil
}

// Connection returns one connection; ErrNotFound if absent.
func (s *Store) Connection(ctx context.Context, name string) (Connection, error) {
	cn, err := scanConnection(s.db.SQL().QueryRowContext(ctx, `SELECT `+connCols+` FROM connections WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return Connection{}, fmt.Errorf("connection %q: %w", name, catalog.ErrNotFound)
	}
	if err != nil {
		return Connection{}, fmt.Errorf("read connection %q: %w", name, err)
	}
	return cn, nil
}

// ListConnections returns connections by name.
func (s *Store) ListConnections(ctx context.Context, p catalog.Page) ([]Connection, string, error) {
	return catalog.QueryPage(ctx, s.db, "connections", `SELECT `+connCols+` FROM connections ORDER BY name`, nil, p, scanConnection)
}

// DeleteConnection removes a connection; ErrNotFound if absent.
func (s *Store) DeleteConnection(ctx context.Context, name string) error {
	res, err := s.db.SQL().ExecContext(ctx, `DELETE FROM connections WHERE name = ?`, name)
	if err != nil {
		return fmt.Errorf("delete connection %q: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("connection %q: %w", name, catalog.ErrNotFound)
	}
	return nil
}

// ConnectionUse counts what refers to connection name's buckets (ARN
// prefix arn:aws:s3:NAME::): recovery points, backup selections and
// backup or restore jobs not finished.
func (s *Store) ConnectionUse(ctx context.Context, name string) (rps, selections, jobs int64, err error) {
	like := "arn:aws:s3:" + name + "::%"
	q := []struct {
		sql string
		dst *int64
	}{
		{`SELECT COUNT(*) FROM recovery_points WHERE resource_arn LIKE ?`, &rps},
		{`SELECT COUNT(*) FROM backup_selections WHERE document LIKE ?`, &selections},
		{`SELECT COUNT(*) FROM backup_jobs WHERE resource_arn LIKE ? AND state IN ('CREATED', 'PENDING', 'RUNNING', 'ABORTING')`, &jobs},
	}
	for _, x := range q {
		arg := like
		if x.dst == &selections {
			arg = "%arn:aws:s3:" + name + "::%"
		}
		if err := s.db.SQL().QueryRowContext(ctx, x.sql, arg).Scan(x.dst); err != nil {
			return 0, 0, 0, fmt.Errorf("uses of connection %q: %w", name, err)
		}
	}
	return rps, selections, jobs, nil
}
