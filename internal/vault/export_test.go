package vault

// CheckpointCount is the number of checkpoints w took (for the external
// tests, which need vaultmaint).
func CheckpointCount(w *Writer) int64 { return w.checkpoint.count.Load() }
