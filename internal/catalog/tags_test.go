package catalog

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/cofferbackup/coffer/internal/vocab"
)

// TestConcurrentAddTagsKeepTheLimit: a resource with 45 tags and ten
// concurrent additions of 5 new keys each: exactly one fits under the
// 50-tag limit, the others are refused with ErrLimitExceeded, and the
// resource ends with 50 tags (on PostgreSQL the count and the write of
// concurrent transactions would both pass without the lock).
func TestConcurrentAddTagsKeepTheLimit(t *testing.T) {
	forEachEngine(t, testConcurrentAddTagsKeepTheLimit)
}

func testConcurrentAddTagsKeepTheLimit(t *testing.T, open opener) {
	db := open(t)
	for round := range 3 {
		arn := fmt.Sprintf("arn:aws:backup:us-east-1:000000000000:backup-vault:tags%d", round)
		base := map[string]string{}
		for i := range vocab.MaxTags - 5 {
			base[fmt.Sprintf("k%02d", i)] = "v"
		}
		if err := db.SetTags(ctx, arn, base); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var ok, refused int
		for g := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				add := map[string]string{}
				for i := range 5 {
					add[fmt.Sprintf("g%d-%d", g, i)] = "v"
				}
				err := db.AddTags(ctx, arn, add)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, vocab.ErrLimitExceeded):
					refused++
				default:
					t.Errorf("AddTags: %v", err)
				}
			}()
		}
		wg.Wait()
		tags, err := db.Tags(ctx, arn)
		if err != nil {
			t.Fatal(err)
		}
		if ok != 1 || refused != 9 || len(tags) != vocab.MaxTags {
			t.Fatalf("round %d: %d additions passed, %d refused, %d tags; want 1, 9, %d", round, ok, refused, len(tags), vocab.MaxTags)
		}
	}
}
