// Package maintenance owns the maintenance of vaults as jobs of their
// own: requested on demand, after recovery points are deleted or expire,
// and periodically by the leader; at most one queued per vault. A job
// takes its vault's exclusive lease without holding off new jobs (it
// waits in the queue while jobs hold the vault), runs the vault's
// maintenance (kopia's, with coffer's mark of what live recovery points
// reference), can be stopped, and is taken over if its process dies.
package maintenance
