package vault

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"testing"

	"github.com/kopia/kopia/repo"
	"github.com/kopia/kopia/repo/encryption"
	"github.com/kopia/kopia/repo/format"
)

// legacyFormat is the repository format vaults were created with before
// the BLAKE3 content hash (docs/format.md).
func legacyFormat() *repo.NewRepositoryOptions {
	return &repo.NewRepositoryOptions{
		BlockFormat:  format.ContentFormat{Hash: "BLAKE2B-256-128", Encryption: encryption.DefaultAlgorithm},
		ObjectFormat: format.ObjectFormat{Splitter: "DYNAMIC-4M-BUZHASH"},
	}
}

// BenchmarkWriteObject measures WriteObject throughput for unique objects
// (no dedup), random (incompressible) and text-like, in the current
// repository format and the legacy one, and with a fixed-size splitter
// for comparison.
func BenchmarkWriteObject(b *testing.B) {
	fixed := newRepositoryOptions()
	fixed.ObjectFormat.Splitter = "FIXED-4M"
	formats := []struct {
		name string
		f    *repo.NewRepositoryOptions
	}{
		{"current", nil},
		{"legacy-blake2b", legacyFormat()},
		{"blake3-fixed4m", fixed},
	}

	for _, f := range formats {
		for _, size := range []int{64 << 10, 64 << 20} {
			for _, kind := range []string{"random", "text"} {
				b.Run(fmt.Sprintf("%s/%dKiB/%s", f.name, size>>10, kind), func(b *testing.B) {
					benchWrite(b, Options{format: f.f}, benchInputs(size)[kind])
				})
			}
		}
	}
}

func benchWrite(b *testing.B, opts Options, data []byte) {
	v := createVaultOpts(b, b.TempDir(), opts)
	defer closeVault(b, v)

	ctx := context.Background()

	w, err := v.NewWriter(ctx)
	if err != nil {
		b.Fatal(err)
	}

	b.SetBytes(int64(len(data)))
	b.ResetTimer()

	for i := range b.N {
		// A stamp every 64 KiB makes every object and every chunk unique
		// (so nothing dedups) and keeps the data's compressibility.
		b.StopTimer()
		stamp := fmt.Sprintf("%016d", i)
		for off := 0; off < len(data); off += 64 << 10 {
			copy(data[off:], stamp)
		}
		b.StartTimer()

		if _, _, err := w.WriteObject(ctx, bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}

	b.StopTimer()

	if err := w.Commit(ctx); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkReadObject measures reading objects back the way a restore
// does: each object once, from a vault reopened after the writes (so no
// content is in a cache yet), random data of 64 KiB and 64 MiB.
func BenchmarkReadObject(b *testing.B) {
	for _, size := range []int{64 << 10, 64 << 20} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			benchRead(b, benchInputs(size)["random"])
		})
	}
}

func benchRead(b *testing.B, data []byte) {
	ctx := context.Background()
	dir := b.TempDir()
	v := createVaultOpts(b, dir, Options{})

	w, err := v.NewWriter(ctx)
	if err != nil {
		b.Fatal(err)
	}

	ids := make([]ObjectID, b.N)
	for i := range b.N {
		stamp := fmt.Sprintf("%016d", i)
		for off := 0; off < len(data); off += 64 << 10 {
			copy(data[off:], stamp)
		}

		if ids[i], _, err = w.WriteObject(ctx, bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}

	if err := w.Commit(ctx); err != nil {
		b.Fatal(err)
	}

	closeVault(b, v)
	v = openVault(b, dir)
	defer closeVault(b, v)

	buf := make([]byte, 1<<20)

	b.SetBytes(int64(len(data)))
	b.ResetTimer()

	for _, id := range ids {
		r, err := v.OpenObject(ctx, id)
		if err != nil {
			b.Fatal(err)
		}

		n, err := io.CopyBuffer(io.Discard, r, buf)
		if err == nil {
			err = r.Close()
		}

		if err != nil || n != int64(len(data)) {
			b.Fatalf("read %d of %d bytes: %v", n, len(data), err)
		}
	}
}

// BenchmarkOpen measures what a vault costs to open (scrypt's key
// derivation, the index and manifests loaded) and what an open vault keeps
// in the heap (retained-KiB, after a collection), empty and holding 10,000
// small objects: the figures behind the registry's --idle-vaults bound.
func BenchmarkOpen(b *testing.B) {
	for _, objects := range []int{0, 10_000} {
		b.Run(fmt.Sprintf("objects=%d", objects), func(b *testing.B) {
			benchOpen(b, objects)
		})
	}
}

func benchOpen(b *testing.B, objects int) {
	ctx := context.Background()
	dir := b.TempDir()
	f := newRepositoryOptions()
	f.FormatBlockKeyDerivationAlgorithm = scryptAlgorithm // as every release's vaults
	v := createVaultOpts(b, dir, Options{format: f})
	w, err := v.NewWriter(ctx)
	if err != nil {
		b.Fatal(err)
	}
	data := randomBytes(4<<10, 1)
	for i := range objects {
		copy(data, fmt.Sprintf("%016d", i))
		if _, _, err := w.WriteObject(ctx, bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	closeVault(b, v)

	// What the open vault holds: the heap with it open less the heap once
	// it is closed, both after a collection (the setup's garbage and
	// kopia's process-wide buffer free lists are in both).
	heap := func() int64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	held := openVault(b, dir)
	if _, err := held.RecoveryPoints(ctx); err != nil {
		b.Fatal(err)
	}
	open := heap()
	closeVault(b, held)
	retained := float64(open-heap()) / 1024

	b.ResetTimer()
	for range b.N {
		v := openVault(b, dir)
		if _, err := v.RecoveryPoints(ctx); err != nil {
			b.Fatal(err)
		}
		closeVault(b, v)
	}
	b.ReportMetric(retained, "retained-KiB") // after ResetTimer, which drops metrics
}
