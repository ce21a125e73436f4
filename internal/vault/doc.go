// Package vault owns the storage engine of a backup vault: an encrypted,
// deduplicated, compressed repository (kopia's repository library, wrapped
// here so that the rest of coffer never imports kopia) holding object data,
// recovery-point record streams and their manifests, plus maintenance that
// reclaims the space of deleted recovery points: kopia's own maintenance
// with coffer's mark and sweep of what recovery points reference in the
// place of kopia's snapshot GC.
package vault
