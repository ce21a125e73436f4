package service

import (
	"bytes"
	"sync"
	"testing"
)

// TestMasterKeyCreatedOnce: processes starting together on a fresh data
// directory all end up with the one key that was written first; none
// replaces it (a replaced key makes the vaults of the process that made it
// unreadable after its restart).
func TestMasterKeyCreatedOnce(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	keys := make([][]byte, n)
	created := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keys[i], _, created[i], errs[i] = LoadOrCreateMasterKey(dir, "")
		}()
	}
	wg.Wait()
	makers := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("starter %d: %v", i, errs[i])
		}
		if created[i] {
			makers++
		}
		if !bytes.Equal(keys[i], keys[0]) {
			t.Fatalf("starter %d has another key than starter 0", i)
		}
	}
	if makers != 1 {
		t.Fatalf("%d starters say they created the key, want exactly 1", makers)
	}
	again, _, made, err := LoadOrCreateMasterKey(dir, "")
	if err != nil || made || !bytes.Equal(again, keys[0]) {
		t.Fatalf("a later start: made=%v err=%v, same key %v", made, err, bytes.Equal(again, keys[0]))
	}
}
