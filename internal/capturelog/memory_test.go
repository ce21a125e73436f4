package capturelog

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/vault"
)

// manyChanges commits segs segments of perSeg version changes each over
// keys keys: segment s holds version s/(segs/versionsPerKey) of every key
// in its residue class, so every key's versions are spread over segments.
func manyChanges(t testing.TB, v *vault.Vault, segs, keys int) int {
	t.Helper()

	classes := segs / 10 // 10 versions of each key
	total := 0

	for s := range segs {
		j, r := s/classes, s%classes

		var changes []Change

		for k := r; k < keys; k += classes {
			key := fmt.Sprintf("photos/%06d.jpg", k)
			c := version(key, fmt.Sprintf("v%06d-%02d", k, j), at(time.Duration(j)*time.Minute+time.Duration(k)*time.Millisecond), int64(j),
				map[string]string{"camera": "x100", "album": "2026"})
			c.Data = "k1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081"
			c.ContentType = "image/jpeg"
			changes = append(changes, c)
		}

		commitSegment(t, v, int64(s+1), changes)
		total += len(changes)
	}

	return total
}

// TestStateMemoryFlat streams 100,000 changes of 10,000 keys, over 10
// large segments and over 100 small ones, and checks that the live heap
// while streaming is bounded by the number of streams merged (each holds
// one content of ~128 KiB, its decompressor and buffers, and the merge one
// key's changes), never by the size of a segment or the number of changes.
//
// Not parallel: the heap is the process's.
func TestStateMemoryFlat(t *testing.T) {
	tests := []struct {
		name string
		segs int
	}{
		{"10 segments of 10,000 changes", 10},
		{"100 segments of 1,000 changes", 100},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const keys = 10_000

			v := newVault(t)
			total := manyChanges(t, v, tt.segs, keys)
			peak := streamPeak(t, v, total, keys)

			limit := uint64(tt.segs)*512<<10 + 4<<20
			if peak > limit {
				t.Fatalf("live heap grew by %d bytes while streaming %d segments, over %d", peak, tt.segs, limit)
			}
		})
	}
}

// liveHeap reads the memory statistics after two collections (the second
// empties the pools' victim caches, which are not the stream's).
func liveHeap(ms *runtime.MemStats) {
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(ms)
}

// streamPeak streams the state at the end and returns the largest growth
// of the live heap seen (every 10,000 records).
func streamPeak(t *testing.T, v *vault.Vault, total, keys int) uint64 {
	t.Helper()

	ctx := context.Background()

	p, err := PlanAt(ctx, v, testRP, at(time.Hour))
	if err != nil {
		t.Fatal(err)
	}

	var ms runtime.MemStats

	liveHeap(&ms)
	base, allocs0, bytes0 := ms.HeapAlloc, ms.Mallocs, ms.TotalAlloc

	var n, latest int
	var peak uint64

	err = StateAt(ctx, v, p, func(r *recpoint.Record) error {
		n++
		if r.IsLatest {
			latest++
		}

		if n%10_000 == 0 {
			liveHeap(&ms)
			peak = max(peak, ms.HeapAlloc-min(base, ms.HeapAlloc))
		}

		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	runtime.ReadMemStats(&ms)
	t.Logf("%d changes in %d segments -> %d records (%d keys): live heap above the start at most %.1f MiB; %.1f allocations and %.0f bytes allocated per change",
		total, len(p.Segments), n, latest, float64(peak)/(1<<20), float64(ms.Mallocs-allocs0)/float64(total), float64(ms.TotalAlloc-bytes0)/float64(total))

	if n != total || latest != keys {
		t.Fatalf("streamed %d records of %d keys, want %d of %d", n, latest, total, keys)
	}

	return peak
}

// BenchmarkStateAt: the state at T of 100,000 changes in 100 segments.
func BenchmarkStateAt(b *testing.B) {
	v := newVault(b)
	total := manyChanges(b, v, 100, 10_000)
	ctx := context.Background()

	p, err := PlanAt(ctx, v, testRP, at(time.Hour))
	if err != nil {
		b.Fatal(err)
	}

	b.ReportAllocs()
	b.ResetTimer()

	for range b.N {
		n := 0
		if err := StateAt(ctx, v, p, func(*recpoint.Record) error { n++; return nil }); err != nil || n != total {
			b.Fatalf("StateAt: %d records, %v", n, err)
		}
	}

	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*total), "ns/change")
}
