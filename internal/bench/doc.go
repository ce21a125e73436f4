// Package bench measures coffer end to end on a real S3 server: it fills a
// bucket with small and large objects, then times a full backup, an
// incremental backup after 1% of the objects changed, and a full restore,
// reporting throughput and peak memory. `coffer bench` runs it.
package bench
