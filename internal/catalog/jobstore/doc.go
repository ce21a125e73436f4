// Package jobstore owns the catalog's job rows: backup, restore, copy,
// verification and maintenance jobs, their conditional state changes
// (every one logged in the core's job events) and their claims, which keep
// the jobs and the maintenance of one vault apart across processes
// (vaultbusy.go).
//
// It is a store over the catalog's core (package catalog): one schema and
// one migration set, SQL with `?` placeholders, transactions through
// catalog.DB.InTx.
package jobstore
