// Package vault owns the storage engine of a backup vault: an encrypted,
// deduplicated, compressed repository (kopia's repository library, wrapped
// here so that the rest of coffer never imports kopia) holding object data,
// recovery-point record streams and their manifests, plus the mark-and-sweep
// maintenance that reclaims space of deleted recovery points.
package vault
