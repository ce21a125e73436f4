// Package vaultverify owns the verification of a vault's integrity:
// manifests, record streams, the index and pack listing, and a share of
// the data read back and compared with the records' sizes and checksums.
// It writes nothing and reads the repository through
// vault.Vault.Repository.
package vaultverify
