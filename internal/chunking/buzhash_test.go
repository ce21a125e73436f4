package chunking

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/chmduquesne/rollinghash/buzhash32"
	"github.com/kopia/kopia/repo/splitter"
)

func TestTableMatchesBuzhash32(t *testing.T) {
	if got, want := table, buzhash32.GenerateHashes(1); got != want {
		t.Fatal("buzhash table differs from buzhash32's default")
	}
}

// kopiaCuts returns the chunk lengths kopia's splitter gives data fed in
// pieces of step bytes.
func kopiaCuts(t testing.TB, name string, data []byte, step int) []int {
	t.Helper()
	s := splitter.GetFactory(name)()
	defer s.Close()

	var cuts []int
	chunk := 0
	for off := 0; off < len(data); {
		piece := data[off:min(off+step, len(data))]
		n := s.NextSplitPoint(piece)
		if n < 0 {
			chunk += len(piece)
			off += len(piece)
			continue
		}
		cuts = append(cuts, chunk+n)
		chunk = 0
		off += n
	}
	if chunk > 0 {
		cuts = append(cuts, chunk)
	}

	return cuts
}

// cuts returns the chunk lengths s gives data seen step bytes more at a
// time, the way Write calls it.
func cuts(s Splitter, data []byte, step int) []int {
	var out []int
	for len(data) > 0 {
		scanned, n := 0, -1
		for seen := min(step, len(data)); n < 0; seen = min(seen+step, len(data)) {
			if n = s.Cut(data[:seen], scanned); n < 0 && seen == len(data) {
				n = seen
			}
			scanned = seen
		}
		out = append(out, n)
		data = data[n:]
	}

	return out
}

// lowEntropy is data whose windows repeat: runs of one byte make the hash
// hit zero often, or never.
func lowEntropy(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 7))
	var b bytes.Buffer
	for b.Len() < n {
		b.Write(bytes.Repeat([]byte{byte(rng.IntN(3))}, 1+rng.IntN(5000)))
	}

	return b.Bytes()[:n]
}

func random(n int, seed uint64) []byte {
	b := make([]byte, n)
	var key [32]byte
	key[0] = byte(seed)
	_, _ = rand.NewChaCha8(key).Read(b)

	return b
}

func TestBuzhashMatchesKopia(t *testing.T) {
	tests := []struct {
		name  string
		avg   int
		data  []byte
		steps []int
	}{
		{"4M random 24MiB", 4 << 20, random(24<<20, 1), []int{333333}},
		{"4M zeros 17MiB (every cut at max)", 4 << 20, make([]byte, 17<<20), []int{1 << 20}},
		{"4M low entropy", 4 << 20, lowEntropy(16<<20, 2), []int{100_000}},
		{"4M shorter than min", 4 << 20, random(1<<20, 3), []int{4096}},
		{"4M exactly max", 4 << 20, make([]byte, 8<<20), []int{8 << 20}},
		{"128K random 8MiB", 128 << 10, random(8<<20, 4), []int{1000, 64 << 10}},
		{"128K low entropy", 128 << 10, lowEntropy(8<<20, 5), []int{7777}},
		{"1M random", 1 << 20, random(8<<20, 6), []int{100 << 10}},
	}
	names := map[int]string{4 << 20: "DYNAMIC-4M-BUZHASH", 128 << 10: "DYNAMIC-128K-BUZHASH", 1 << 20: "DYNAMIC-1M-BUZHASH"}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewBuzhash(tt.avg)
			if err != nil {
				t.Fatal(err)
			}
			want := kopiaCuts(t, names[tt.avg], tt.data, 128<<10)
			for _, step := range append(tt.steps, len(tt.data)) {
				if got := cuts(s, tt.data, step); !equal(got, want) {
					t.Fatalf("step %d: cuts %v, kopia's %v", step, got, want)
				}
			}
			if len(tt.data) > 2*tt.avg && len(want) < 2 {
				t.Fatalf("only %d chunks in %d bytes", len(want), len(tt.data))
			}
		})
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}

	return true
}

func TestNewBuzhashRejects(t *testing.T) {
	for _, avg := range []int{0, 64, 100, 3 << 20, 2 << 30} {
		if _, err := NewBuzhash(avg); err == nil {
			t.Errorf("NewBuzhash(%d) accepted", avg)
		}
	}
}

func FuzzBuzhashMatchesKopia(f *testing.F) {
	f.Add([]byte("seed"), uint16(1000))
	f.Fuzz(func(t *testing.T, pattern []byte, step uint16) {
		if len(pattern) == 0 {
			return
		}
		// Repeat the pattern past a few chunks of the 128K splitter.
		data := bytes.Repeat(pattern, 600<<10/len(pattern)+1)
		s, _ := NewBuzhash(128 << 10)
		want := kopiaCuts(t, "DYNAMIC-128K-BUZHASH", data, int(step)+1)
		if got := cuts(s, data, int(step)+1); !equal(got, want) {
			t.Fatalf("cuts %v, kopia's %v", got, want)
		}
	})
}

func BenchmarkCut(b *testing.B) {
	data := random(64<<20, 9)
	b.Run("coffer", func(b *testing.B) {
		s, _ := NewBuzhash(4 << 20)
		b.SetBytes(int64(len(data)))
		for range b.N {
			_ = cuts(s, data, readStep)
		}
	})
	b.Run("kopia", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for range b.N {
			_ = kopiaCuts(b, "DYNAMIC-4M-BUZHASH", data, readStep)
		}
	})
}

func TestForKopia(t *testing.T) {
	tests := []struct {
		name string
		want Splitter
	}{
		{"DYNAMIC-4M-BUZHASH", Buzhash{Min: 2 << 20, Max: 8 << 20, mask: 4<<20 - 1}},
		{"DYNAMIC-128K-BUZHASH", Buzhash{Min: 64 << 10, Max: 256 << 10, mask: 128<<10 - 1}},
		{"FIXED-4M", Fixed{Size: 4 << 20}},
		{"FIXED-128K", Fixed{Size: 128 << 10}},
		{"DYNAMIC-4M-RABINKARP", nil},
		{"DYNAMIC", nil},
		{"FIXED", nil},
		{"FIXED-0M", nil},
		{"DYNAMIC-3M-BUZHASH", nil},
		{"", nil},
	}
	for _, tt := range tests {
		got, ok := ForKopia(tt.name)
		if ok != (tt.want != nil) || got != tt.want {
			t.Errorf("ForKopia(%q) = %v, %v; want %v", tt.name, got, ok, tt.want)
		}
		if ok && KopiaName(got) != tt.name {
			t.Errorf("KopiaName(ForKopia(%q)) = %q", tt.name, KopiaName(got))
		}
		if ok && splitter.GetFactory(tt.name) == nil {
			t.Errorf("kopia has no splitter %q", tt.name)
		}
	}
}
