package servercmd

import (
	"os"
	"runtime/debug"
)

// DefaultMemoryLimit is the Go runtime's soft memory limit for the server
// and the bench, in bytes. Without it the collector lets the heap grow to
// twice what is live before collecting, so a backup whose live heap was
// ~180 MiB (kopia's buffers, zstd encoders, S3 part buffers) peaked at
// 570 MiB of heap and 630 MiB resident. With a limit the collector runs
// earlier as the heap nears it; it is soft: a job that needs more live
// memory gets it, at the cost of more collections (the runtime caps the
// collector at about half the CPU). Resident memory ends up 25 to 45 MiB
// above the limit (the binary, stacks, kopia's mapped indexes): 256 MiB
// kept a server at 301 MiB over ../shared/bench/side-by-side.sh, and 224
// MiB made it collect so often that restores of large objects took half
// again as long (docs/performance.md). GOMEMLIMIT in the environment,
// Go's own setting, wins.
const DefaultMemoryLimit = 256 << 20

// ApplyMemoryLimit sets the runtime's soft memory limit to mib MiB unless
// GOMEMLIMIT is set; 0 leaves the runtime's default (no limit).
func ApplyMemoryLimit(mib int64) {
	if os.Getenv("GOMEMLIMIT") != "" || mib <= 0 {
		return
	}
	debug.SetMemoryLimit(mib << 20)
}
