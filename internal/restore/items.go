package restore

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// ParseItems validates restore items of the form "s3://bucket/key-or-prefix"
// against the recovery point's bucket and returns their key prefixes, in
// the order given. "s3://bucket" and "s3://bucket/" select the whole
// bucket (prefix ""). Keys are taken literally: no URL decoding.
func ParseItems(items []string, bucket string) ([]string, error) {
	prefixes := make([]string, 0, len(items))
	for i, item := range items {
		rest, ok := strings.CutPrefix(item, "s3://")
		if !ok {
			return nil, fmt.Errorf("restore item %d %q: must start with s3://", i+1, item)
		}
		b, key, _ := strings.Cut(rest, "/")
		if b == "" {
			return nil, fmt.Errorf("restore item %d %q: no bucket name after s3://", i+1, item)
		}
		if b != bucket {
			return nil, fmt.Errorf("restore item %d %q: bucket %q is not the recovery point's bucket %q",
				i+1, item, b, bucket)
		}
		prefixes = append(prefixes, key)
	}
	return prefixes, nil
}

// matcher tells whether a key falls under one of the prefixes, in
// O(log n) for any number of prefixes.
type matcher struct {
	all      bool
	prefixes []string // sorted; none is a prefix of another
}

func newMatcher(prefixes []string) *matcher {
	if len(prefixes) == 0 {
		return &matcher{all: true}
	}
	ps := slices.Clone(prefixes)
	slices.Sort(ps)
	ps = slices.Compact(ps)
	kept := ps[:0]
	for _, p := range ps {
		// Sorted order puts a prefix right before the strings it covers.
		if len(kept) > 0 && strings.HasPrefix(p, kept[len(kept)-1]) {
			continue
		}
		kept = append(kept, p)
	}
	if len(kept) == 1 && kept[0] == "" {
		return &matcher{all: true}
	}
	return &matcher{prefixes: kept}
}

// match reports whether key has one of the prefixes. In a sorted,
// prefix-free set only the greatest prefix <= key can be a prefix of key.
func (m *matcher) match(key string) bool {
	if m.all {
		return true
	}
	i := sort.SearchStrings(m.prefixes, key)
	if i < len(m.prefixes) && m.prefixes[i] == key {
		return true
	}
	return i > 0 && strings.HasPrefix(key, m.prefixes[i-1])
}
