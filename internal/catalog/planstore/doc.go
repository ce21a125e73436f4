// Package planstore owns the catalog's backup plans: each plan's versions,
// its resource selections, and the runs of its rules (planruns.go).
//
// It is a store over the catalog's core (package catalog): one schema and
// one migration set, SQL with `?` placeholders, transactions through
// catalog.DB.InTx.
package planstore
