// Package capturelog owns the capture log of continuous recovery points in
// a vault (docs/format.md, "Capture log"): segments (sorted batches of
// change records, format coffer-changes v1, with a manifest each),
// checkpoints (the state as of a time C, a coffer-records stream), the
// plan of a restore at T (from the manifests alone) and the streaming
// k-way merge that yields the state at T as recpoint records, which the
// restore engine reads. It stores everything through internal/vault's
// capture-manifest API and its write sessions.
package capturelog
