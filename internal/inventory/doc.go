// Package inventory owns what coffer holds: the vaults and their recovery
// points, kept in the catalog in line with the vault store. It creates and
// deletes vaults, registers and deletes recovery points, records tag
// changes of recovery points in their vault, reconciles the catalog with
// the vaults at start, rebuilds the entries a lost catalog lacks and
// attaches vaults made elsewhere. The vault store is the truth: every
// change writes the vault first and the catalog second, so that a crash
// in between leaves what the next start's reconciliation repairs.
//
// It also holds the vault registry (package vaults): one lease per vault,
// shared by jobs and exclusive for maintenance and deletion.
package inventory
