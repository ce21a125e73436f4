// Package catalog owns coffer's catalog database: vaults, backup and restore
// jobs, plans and the index of recovery points. It runs on SQLite (pure Go,
// the embedded default: OpenSQLite) or PostgreSQL (OpenPostgres), with one
// schema and one migration set for both. SQL is written once with `?`
// placeholders; on PostgreSQL the connection rebinds them to `$n` (rebind.go),
// so new SQL must only stay portable (no engine-specific functions or
// jsonb `?` operators). Constraint violations are recognised by error code
// (errors.go). The catalog is an index: each vault remains the source of
// truth for its recovery points.
package catalog
