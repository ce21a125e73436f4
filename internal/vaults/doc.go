// Package vaults owns the vaults this process has open and one
// context-aware lease per vault.
//
// Jobs (backups, restores), recovery-point deletion and listings hold a
// vault's lease shared; maintenance and vault deletion hold it exclusively.
// An exclusive request that waits never holds off new shared holders:
// maintenance waits for a quiet moment (bounded by its context) instead of
// stalling every new job behind a long restore. Every wait ends when its
// context does (a stop, a window's end, shutdown), and TryAcquire does not
// wait at all, so a job queue's worker never sits blocked on a vault: the
// job is put back in the queue instead.
//
// How a vault is opened is not this package's business: the registry is
// given an OpenFunc and opens each vault on its first lease. It keeps a few
// vaults that no lease holds open (the most recently released, for the
// next job's sake) and closes the others, so that the memory of a vault's
// engine is held only while it serves: a server with many vaults (periodic
// maintenance leases them all) does not keep them all in its heap.
package vaults
