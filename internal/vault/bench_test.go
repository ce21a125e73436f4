package vault

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"
)

// BenchmarkWriteObject measures WriteObject throughput for unique random
// objects (no dedup, no compression gain).
func BenchmarkWriteObject(b *testing.B) {
	for _, bc := range []struct {
		name string
		size int
	}{
		{"1MiB", 1 << 20},
		{"64MiB", 64 << 20},
	} {
		b.Run(bc.name, func(b *testing.B) {
			v := createVault(b, b.TempDir())
			defer closeVault(b, v)

			ctx := context.Background()

			w, err := v.NewWriter(ctx)
			if err != nil {
				b.Fatal(err)
			}

			var seed [32]byte
			rng := rand.NewChaCha8(seed)
			buf := make([]byte, bc.size)

			b.SetBytes(int64(bc.size))
			b.ResetTimer()

			for range b.N {
				b.StopTimer()
				_, _ = rng.Read(buf)
				b.StartTimer()

				if _, _, err := w.WriteObject(ctx, bytes.NewReader(buf)); err != nil {
					b.Fatal(err)
				}
			}

			b.StopTimer()

			if err := w.Commit(ctx); err != nil {
				b.Fatal(err)
			}
		})
	}
}
