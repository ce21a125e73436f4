// Package catalog owns coffer's catalog database: its core (open, one schema
// and its migrations, transactions, paging, advisory locks) and the index
// of vaults, recovery points and their tags, the job event log, processes'
// liveness, request signatures and the key fingerprint. The other tables'
// owners are stores under it (jobstore, planstore, holdstore, connstore,
// capturestore), which reach the core through InTx, QueryPage, LockKeys,
// Transition and InsertEvent. It runs on SQLite (pure Go,
// the embedded default: OpenSQLite) or PostgreSQL (OpenPostgres), with one
// schema and one migration set for both. SQL is written once with `?`
// placeholders; on PostgreSQL the connection rebinds them to `$n` (rebind.go),
// so new SQL must only stay portable (no engine-specific functions or
// jsonb `?` operators). Constraint violations are recognised by error code
// (errors.go). The catalog is an index: each vault remains the source of
// truth for its recovery points.
package catalog
