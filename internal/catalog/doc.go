// Package catalog owns coffer's catalog database: vaults, backup and restore
// jobs and the index of recovery points. SQLite (pure Go) is the embedded
// default; the SQL is kept portable so PostgreSQL can hold the same schema.
// The catalog is an index: each vault remains the source of truth for its
// recovery points.
package catalog
