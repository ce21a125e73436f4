// Package backup is the data-plane engine of one backup job of one bucket:
// it streams the bucket's version listing, reads every version that is not
// already protected by the previous recovery point (incremental forever),
// stores the bytes and a record stream in a vault and registers the
// recovery point there.
//
// # Pipeline
//
// One lister goroutine streams ListVersions and numbers each entry. For an
// incremental run it merge-joins the listing with the previous recovery
// point's record stream (both are in listing order) and attaches the
// previous record of the same version when there is one. A pool of
// Options.Parallelism workers captures entries: new versions are streamed
// from GetObject into Writer.WriteObject; versions already captured reuse
// their vault object and immutable metadata, only the mutable parts (tags,
// ACL, lock) are read again, and not even those where the endpoint, probed
// once per run, lists tags with the versions and has fixed ACLs (MinIO). An ordered emitter writes the records in
// listing order into a recpoint.Writer whose output is piped into the vault,
// so the record stream is itself a deduplicated vault object. A window
// semaphore bounds the entries in flight, so memory stays flat however many
// objects the bucket holds.
//
// A failure of a single version (deleted during the backup, access denied,
// unreadable after retries, size mismatch) leaves it out of the recovery
// point, which becomes PARTIAL. A listing or vault error, or a cancelled
// context, fails the run and registers nothing.
package backup
