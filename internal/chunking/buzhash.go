package chunking

import (
	"fmt"
	"math/bits"
	"math/rand"
)

// window is the rolling hash's window in bytes (kopia's
// splitterSlidingWindowSize). 64 is a multiple of 32, so the byte leaving
// the window is XORed out unrotated.
const window = 64

// table is buzhash32's byte table with its default seed, 1 (the table of
// github.com/chmduquesne/rollinghash/buzhash32, which kopia uses).
var table = generateTable(1)

// generateTable draws 256 distinct values the way buzhash32's
// GenerateHashes does; TestTableMatchesBuzhash32 holds it to that.
func generateTable(seed int64) (t [256]uint32) {
	random := rand.New(rand.NewSource(seed)) //nolint:gosec // a fixed table, not a secret
	used := make(map[uint32]bool, len(t))
	for i := range t {
		x := uint32(random.Int63()) //nolint:gosec // truncation is the table's definition
		for used[x] {
			x = uint32(random.Int63()) //nolint:gosec // as above
		}
		used[x] = true
		t[i] = x
	}

	return t
}

// Buzhash finds the boundaries of kopia's DYNAMIC-<avg>-BUZHASH splitter:
// a chunk ends after the first byte at or past Min whose window hashes to
// zero under the mask, or at Max.
type Buzhash struct {
	Min, Max int
	mask     uint32
}

// NewBuzhash is the splitter of average size avg, a power of two of at
// least 128 bytes: kopia's minimum avg/2, maximum 2*avg, mask avg-1.
func NewBuzhash(avg int) (Buzhash, error) {
	if avg < 2*window || avg&(avg-1) != 0 || avg > 1<<30 {
		return Buzhash{}, fmt.Errorf("buzhash splitter: average size %d is not a power of two in [128, 1 GiB]", avg)
	}

	return Buzhash{Min: avg / 2, Max: avg * 2, mask: uint32(avg - 1)}, nil //nolint:gosec // avg <= 1 GiB
}

// Cut returns the length of the chunk that starts at chunk[0], or -1 when
// chunk holds no boundary (it is shorter than Max and no window in it
// qualifies: the chunk goes on, or ends with the object). The first
// scanned bytes are known to hold no boundary (an earlier Cut of a
// shorter prefix said so): only the windows ending after them are hashed.
func (s Buzhash) Cut(chunk []byte, scanned int) int {
	end := min(len(chunk), s.Max)
	first := max(s.Min, scanned+1)
	if first > end {
		return -1
	}

	// The hash of a full window depends on its 64 bytes only.
	var h uint32
	for _, c := range chunk[first-window : first] {
		h = bits.RotateLeft32(h, 1) ^ table[c]
	}

	if h&s.mask == 0 {
		return first
	}

	in := chunk[first:end]
	out := chunk[first-window : end-window]
	out = out[:len(in)] // one bounds check for the loop below

	for i, c := range in {
		h = bits.RotateLeft32(h, 1) ^ table[out[i]] ^ table[c]
		if h&s.mask == 0 {
			return first + i + 1
		}
	}

	if end == s.Max {
		return s.Max
	}

	return -1
}

// MaxSize is the longest chunk.
func (s Buzhash) MaxSize() int { return s.Max }
