// Package vaultstore owns where vaults live: it creates, opens, deletes
// and lists the vaults of a server by vault id, so that nothing else in
// coffer builds a vault's location itself. FS keeps each vault in a
// directory DATA_DIR/vaults/<vault id>; S3-backed vaults plug in later
// behind the same Store interface. A Store that can take in a vault
// directory made by another server (attach) also implements Importer.
//
// The store knows locations only: vault secrets are derived by the caller
// (from the master key and the vault id) and passed in.
package vaultstore
