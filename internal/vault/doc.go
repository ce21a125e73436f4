// Package vault owns the storage engine of a backup vault: an encrypted,
// deduplicated, compressed repository (kopia's repository library, wrapped
// here so that the rest of coffer never imports kopia) holding object data,
// recovery-point record streams and their manifests. The packages built on
// it (internal/vaultmaint, internal/vaultverify, internal/capturelog's
// storage) reach kopia only through Repository, RepositoryExclusive and
// Writer.RepositoryWriter, which hold the vault's gate: every write to the
// repository stays inside it.
package vault
