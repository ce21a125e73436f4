// Package restore is the data-plane engine of one restore job: it streams a
// recovery point's record stream out of a vault, selects the keys asked for
// (prefixes) and the versions asked for (all, or the newest N of each key),
// and writes them to a destination bucket oldest first, so that a versioned
// destination gets back each key's history (versions and delete markers)
// and any destination ends with each key's final state.
//
// Records are grouped by key while streaming (a key's records are adjacent)
// and whole keys are handed to Options.Parallelism workers, so memory holds
// only the keys in flight, and of each only the versions it restores (the
// newest N; all of them only when all are asked for). Existing keys are never overwritten unless asked:
// they are skipped and reported, including a key written at the
// destination while the restore runs, where the destination honours
// conditional writes (If-None-Match: * on a key's first write). A failure
// of one key is recorded and the job continues; problems with the
// destination itself fail the run.
package restore
