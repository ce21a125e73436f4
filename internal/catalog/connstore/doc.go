// Package connstore owns the catalog's connections: the S3 endpoints coffer backs
// up, with their sealed secrets, and what still uses each one.
//
// It is a store over the catalog's core (package catalog): one schema and
// one migration set, SQL with `?` placeholders, transactions through
// catalog.DB.InTx.
package connstore
