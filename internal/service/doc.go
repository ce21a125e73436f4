// Package service is coffer's control plane: it owns vaults, backup and
// restore jobs, recovery points and their retention, keeps the catalog in
// step with the vaults (the vaults are the source of truth) and runs jobs on
// the data-plane engines (packages backup and restore). The API layer calls
// it; it knows nothing of HTTP.
package service
