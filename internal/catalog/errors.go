package catalog

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"io/fs"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// pgUniqueViolation is PostgreSQL's SQLSTATE unique_violation.
const pgUniqueViolation = "23505"

// IsUniqueViolation reports whether err is a UNIQUE or PRIMARY KEY
// violation, by the engine's error code (messages vary by version and
// locale).
func IsUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == pgUniqueViolation
	}
	return false
}

// IsUnavailable reports whether err says the database could not be
// reached (a refused or dropped connection, a timeout, a server shutting
// down) rather than that it refused the statement: the same call may pass
// once the database is back. A refusal on the data (a constraint, a
// missing row) is not one.
func IsUnavailable(err error) bool {
	if err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrExists) || IsUniqueViolation(err) {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exception; 57P01-57P03: the server is
		// shutting down or not accepting connections yet.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	// A file's error (ENOSPC, EACCES, EROFS under a *fs.PathError) is no
	// outage, though its syscall.Errno passes for a net.Error.
	var pathErr *fs.PathError
	return errors.As(err, &ce) || errors.As(err, &ne) && !errors.As(err, &pathErr) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || pgconn.Timeout(err) ||
		errors.Is(err, sql.ErrConnDone) || strings.Contains(err.Error(), "conn closed")
}
