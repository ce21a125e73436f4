package catalog

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRememberSignature: a signature is new once, for every process of
// the database, even when they race; it is forgotten only once expired
// before the purge time.
func TestRememberSignature(t *testing.T) {
	forEachEngine(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		a, b := open(t), open(t) // two processes
		base := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		until := base.Add(15 * time.Minute)
		for _, tt := range []struct {
			db   *DB
			sig  string
			want bool
		}{
			{a, "sig1", true},
			{a, "sig1", false},
			{b, "sig1", false},
			{b, "sig2", true},
		} {
			if got, err := tt.db.RememberSignature(ctx, tt.sig, base, until); err != nil || got != tt.want {
				t.Fatalf("RememberSignature(%s) = %v, %v; want %v", tt.sig, got, err, tt.want)
			}
		}
		var fresh atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			db := []*DB{a, b}[i%2]
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := db.RememberSignature(ctx, "raced", base, until)
				if err != nil {
					t.Error(err)
				}
				if ok {
					fresh.Add(1)
				}
			}()
		}
		wg.Wait()
		if n := fresh.Load(); n != 1 {
			t.Fatalf("a raced signature was new %d times, want 1", n)
		}
		// Once past its expiry (and the once-a-minute purge), sig1 is gone.
		later := until.Add(2 * time.Minute)
		if ok, err := a.RememberSignature(ctx, "sig3", later, later.Add(15*time.Minute)); err != nil || !ok {
			t.Fatalf("sig3: %v %v", ok, err)
		}
		if ok, err := b.RememberSignature(ctx, "sig1", later, later.Add(15*time.Minute)); err != nil || !ok {
			t.Fatalf("sig1 after its expiry: %v %v, want purged and new", ok, err)
		}
		if ok, err := b.RememberSignature(ctx, "sig3", later, later.Add(15*time.Minute)); err != nil || ok {
			t.Fatalf("sig3 before its expiry: %v %v, want known", ok, err)
		}
	})
}
