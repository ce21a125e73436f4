package chunking

import (
	"strconv"
	"strings"
)

// Splitter finds where chunks end.
type Splitter interface {
	// Cut returns the length of the chunk starting at chunk[0], or -1 when
	// chunk holds no boundary yet; its first scanned bytes were already
	// searched by an earlier Cut of a shorter prefix.
	Cut(chunk []byte, scanned int) int
	// MaxSize is the longest chunk Cut returns.
	MaxSize() int
}

// Fixed cuts chunks of Size bytes (kopia's FIXED-<size> splitters).
type Fixed struct{ Size int }

// Cut returns Size once chunk holds that many bytes.
func (f Fixed) Cut(chunk []byte, _ int) int {
	if len(chunk) >= f.Size {
		return f.Size
	}

	return -1
}

// MaxSize is Size.
func (f Fixed) MaxSize() int { return f.Size }

// ForKopia returns the Splitter that cuts where kopia's splitter of that
// name does, or false for the names it does not cover (Rabin-Karp, the
// legacy unsized names): callers then use kopia's own.
func ForKopia(name string) (Splitter, bool) {
	kind, rest, _ := strings.Cut(name, "-")
	sizeName, algo, _ := strings.Cut(rest, "-")

	size, ok := parseSize(sizeName)
	if !ok {
		return nil, false
	}

	switch {
	case kind == "FIXED" && algo == "":
		return Fixed{Size: size}, true
	case kind == "DYNAMIC" && algo == "BUZHASH":
		s, err := NewBuzhash(size)
		if err != nil {
			return nil, false
		}

		return s, true
	default:
		return nil, false
	}
}

// KopiaName is the name of kopia's splitter that cuts like s, or "" if
// kopia has none.
func KopiaName(s Splitter) string {
	switch s := s.(type) {
	case Fixed:
		return "FIXED-" + sizeName(s.Size)
	case Buzhash:
		return "DYNAMIC-" + sizeName(s.Max/2) + "-BUZHASH"
	default:
		return ""
	}
}

// parseSize reads kopia's size names: 128K, 4M.
func parseSize(s string) (int, bool) {
	unit := 0
	switch {
	case strings.HasSuffix(s, "K"):
		unit = 10
	case strings.HasSuffix(s, "M"):
		unit = 20
	default:
		return 0, false
	}

	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n <= 0 || n > 1024 {
		return 0, false
	}

	return n << unit, true
}

func sizeName(n int) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return strconv.Itoa(n>>20) + "M"
	}

	return strconv.Itoa(n>>10) + "K"
}
