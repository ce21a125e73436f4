// Package holdstore owns the catalog's holds on recovery points: vault locks (a
// vault's retention bounds) and legal holds with the points they hold.
//
// It is a store over the catalog's core (package catalog): one schema and
// one migration set, SQL with `?` placeholders, transactions through
// catalog.DB.InTx.
package holdstore
