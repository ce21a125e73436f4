// Package capturelog owns the capture log of continuous recovery points in
// a vault (docs/format.md, "Capture log"): segments (sorted batches of
// change records, format coffer-changes v1, with a manifest each),
// checkpoints (the state as of a time C, a coffer-records stream), the
// plan of a restore at T (from the manifests alone) and the streaming
// k-way merge that yields the state at T as recpoint records, which the
// restore engine reads. It stores everything itself (store.go), in the
// vault's write sessions and through its gate-held repository accessor,
// under manifest types that start with vault.CaptureManifestPrefix.
package capturelog
