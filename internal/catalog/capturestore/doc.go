// Package capturestore owns the catalog's rows of continuous backup: each
// protection (a bucket captured continuously into a vault, with its
// continuous recovery point and its one queued capture job) and the inbox
// of S3 events received and not yet captured (inbox.go).
//
// It is a store over the catalog's core (package catalog): one schema and
// one migration set, SQL with `?` placeholders, transactions through
// catalog.DB.InTx.
package capturestore
