// Package modeltest holds coffer's randomized model test (TestModel): a
// seeded, reproducible run of random operations on versioned and
// unversioned buckets of a real S3 server, interleaved with backups,
// recovery-point deletions, maintenance, server restarts and restores of
// random recovery points into new buckets. A model of every bucket (each
// version's bytes, metadata and tags, delete markers in order) is recorded
// at each backup, and every restore is compared with what the model says
// its recovery point must hold for the restore mode asked.
//
// The package has only tests; docs/operations.md ("What coffer
// guarantees", "Soak tests") says how to run and replay it.
package modeltest
