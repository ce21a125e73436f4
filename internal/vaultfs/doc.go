// Package vaultfs is the kopia blob storage of vaults on a local file
// system: kopia's filesystem storage, registered under a type of its own,
// which drops each data pack from the page cache once kopia has written
// and synced it (and each range of one once read), and which stamps blobs
// with an injected clock's time when the vault has one.
package vaultfs
