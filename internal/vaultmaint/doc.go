// Package vaultmaint owns the maintenance of a vault: kopia's own
// maintenance with coffer's mark and sweep of what recovery points and
// the capture log reference in the place of kopia's snapshot GC, the
// compaction of short and mostly dead packs, and the Object Lock cover of
// the longest live retention. It reaches the repository only through
// vault.Vault.RepositoryExclusive, which keeps write sessions out while
// it runs.
package vaultmaint
