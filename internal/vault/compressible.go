package vault

import (
	"sync"

	"github.com/klauspost/compress/s2"
	"github.com/kopia/kopia/repo/compression"
)

// Compressing what does not compress (media, archives, encrypted data:
// most large objects in buckets) cost a backup zstd's full pass over the
// data, kopia only noticing afterwards that nothing was saved, and kept a
// pool of zstd encoders (16 MiB of history each) in memory. So an object's
// first sampleSize bytes are compressed with S2, several times faster than
// zstd on incompressible input, and an object whose sample saves less
// than 1/minSavings of its size is stored uncompressed. The choice is made
// per object and recorded per content by kopia (each content's index entry
// names its compression), so a reader needs no setting: vaults written
// before, with every object compressed, read back the same.
const (
	sampleSize = 32 << 10
	minSavings = 16 // the sample must shrink by at least 1/16 (6%)
)

var sampleBuffers = sync.Pool{New: func() any { b := make([]byte, s2.MaxEncodedLen(sampleSize)); return &b }}

// compressorFor returns the compressor of an object that starts with
// sample (the whole object if shorter than sampleSize): none ("") for
// data that does not compress.
func compressorFor(sample []byte) compression.Name {
	if len(sample) == 0 {
		return compressor
	}

	bp, _ := sampleBuffers.Get().(*[]byte)
	defer sampleBuffers.Put(bp)

	if enc := s2.Encode(*bp, sample); len(enc) > len(sample)-len(sample)/minSavings {
		return ""
	}

	return compressor
}
