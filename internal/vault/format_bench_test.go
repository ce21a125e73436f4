package vault

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/kopia/kopia/repo/compression"
	"github.com/kopia/kopia/repo/splitter"
	"github.com/zeebo/blake3"
	"golang.org/x/crypto/blake2b"
	"golang.org/x/crypto/chacha20poly1305"
)

// The benchmarks below measure, one stage at a time, the choices kopia
// offers for the vault's write path (docs/performance.md records the
// figures on the project's machine): splitters through kopia's own
// factories, compressors through kopia's registry, and the hash and AEAD
// primitives kopia's BLAKE2B-256-128, HMAC-SHA256-128, BLAKE3-256-128,
// AES256-GCM-HMAC-SHA256 and CHACHA20-POLY1305-HMAC-SHA256 are built on
// (kopia's wrappers take an internal buffer type; per content they add
// only a key derivation, the same for every choice).

// benchChunk is one content's worth of data: kopia's default splitter
// cuts ~4 MiB pieces of a large object.
const benchChunk = 4 << 20

// benchInputs returns incompressible (random) and compressible (text-like)
// inputs of n bytes.
func benchInputs(n int) map[string][]byte {
	random := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{1}).Read(random)

	// Words drawn from a small vocabulary: compresses about 3x.
	words := []string{"bucket ", "object ", "version ", "coffer ", "restore ", "backup ", "vault ", "key=", "\n", "0123 "}
	rng := rand.New(rand.NewPCG(1, 2))
	var text bytes.Buffer
	for text.Len() < n {
		text.WriteString(words[rng.IntN(len(words))])
	}

	return map[string][]byte{"random": random, "text": text.Bytes()[:n]}
}

func BenchmarkSplitter(b *testing.B) {
	data := benchInputs(64 << 20)["random"]

	for _, name := range []string{"DYNAMIC-4M-BUZHASH", "DYNAMIC-4M-RABINKARP", "FIXED-4M", "DYNAMIC-128K-BUZHASH"} {
		b.Run(name, func(b *testing.B) {
			f := splitter.GetFactory(name)
			if f == nil {
				b.Fatalf("no splitter %s", name)
			}

			b.SetBytes(int64(len(data)))

			for range b.N {
				s := f()
				for rest := data; len(rest) > 0; {
					n := s.NextSplitPoint(rest)
					if n < 0 {
						break
					}
					rest = rest[n:]
				}
				s.Close()
			}
		})
	}
}

func BenchmarkHash(b *testing.B) {
	data := benchInputs(benchChunk)["random"]
	key := make([]byte, 32)

	hashes := map[string]func([]byte) []byte{
		"BLAKE2B-256-128": func(p []byte) []byte {
			h, _ := blake2b.New256(key)
			h.Write(p)
			return h.Sum(nil)[:16]
		},
		"HMAC-SHA256-128": func(p []byte) []byte {
			h := hmac.New(sha256.New, key)
			h.Write(p)
			return h.Sum(nil)[:16]
		},
		"BLAKE3-256-128": func(p []byte) []byte {
			h, _ := blake3.NewKeyed(key)
			h.Write(p)
			return h.Sum(nil)[:16]
		},
	}
	for name, f := range hashes {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))

			for range b.N {
				f(data)
			}
		})
	}
}

func BenchmarkEncrypt(b *testing.B) {
	data := benchInputs(benchChunk)["random"]
	key := make([]byte, 32)
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	chacha, _ := chacha20poly1305.New(key)

	for name, a := range map[string]cipher.AEAD{"AES256-GCM": gcm, "CHACHA20-POLY1305": chacha} {
		b.Run(name, func(b *testing.B) {
			nonce := make([]byte, a.NonceSize())
			out := make([]byte, 0, len(data)+a.Overhead())

			b.SetBytes(int64(len(data)))

			for range b.N {
				out = a.Seal(out[:0], nonce, data, nil)
			}
		})
	}
}

func BenchmarkCompress(b *testing.B) {
	inputs := benchInputs(benchChunk)

	for _, name := range []compression.Name{"zstd-fastest", "s2-default", "deflate-best-speed", "gzip-best-speed"} {
		for _, in := range []string{"random", "text"} {
			b.Run(string(name)+"/"+in, func(b *testing.B) {
				c := compression.ByName[name]
				if c == nil {
					b.Fatalf("no compressor %s", name)
				}

				var out bytes.Buffer

				b.SetBytes(int64(len(inputs[in])))

				for range b.N {
					out.Reset()
					if err := c.Compress(&out, bytes.NewReader(inputs[in])); err != nil {
						b.Fatal(err)
					}
				}

				b.ReportMetric(float64(out.Len())/float64(len(inputs[in])), "ratio")
			})
		}
	}
}

func BenchmarkDecompress(b *testing.B) {
	data := benchInputs(benchChunk)["text"]

	for _, name := range []compression.Name{"zstd-fastest", "s2-default"} {
		b.Run(string(name), func(b *testing.B) {
			c := compression.ByName[name]

			var packed bytes.Buffer
			if err := c.Compress(&packed, bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}

			b.SetBytes(int64(len(data)))

			for range b.N {
				if err := c.Decompress(io.Discard, bytes.NewReader(packed.Bytes()), true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
