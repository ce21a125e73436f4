// Package vaultlock owns what keeps recovery points from being deleted or
// shortened: vault lock configurations (PutBackupVaultLockConfiguration;
// governance mode, or compliance mode after a cooling-off period) and
// legal holds (CreateLegalHold). It decides whether a deletion, an expiry,
// a lifecycle change or a job's retention is allowed; the inventory, the
// backup jobs and retention ask it. Both live in the catalog and in the
// vaults themselves (the descriptor's lock, a legal-hold manifest per
// vault), so that a catalog rebuilt from the vaults keeps them.
package vaultlock
