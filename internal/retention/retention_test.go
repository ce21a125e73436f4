package retention

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/clock"
)

// TestExpire runs the expiry on a real catalog: only recovery points past
// their DeleteAt go, each vault concerned is reclaimed once, and one that
// cannot be deleted is reported without keeping the others, and retried
// at the next call.
func TestExpire(t *testing.T) {
	ctx := context.Background()
	db, err := catalog.OpenSQLite(ctx, filepath.Join(t.TempDir(), "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for _, v := range []string{"a", "b", "c"} {
		if err := db.CreateVault(ctx, catalog.Vault{Name: v, ID: "v-" + v, ARN: "arn:v:" + v, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	rps := []struct {
		vault    string
		deleteAt time.Time
	}{
		{"a", now.Add(-time.Hour)},     // due
		{"a", now.Add(-2 * time.Hour)}, // due
		{"b", now.Add(-time.Minute)},   // due, and its deletion fails once
		{"b", now.Add(time.Hour)},      // not yet
		{"c", time.Time{}},             // kept for ever
		{"c", now.Add(24 * time.Hour)}, // not yet
		{"a", now},                     // due at this very instant
	}
	for i, r := range rps {
		rp := catalog.RecoveryPoint{ARN: fmt.Sprintf("arn:rp:%d", i), ID: fmt.Sprint(i), VaultName: r.vault,
			ResourceARN: "arn:aws:s3:::bucket", ResourceType: "S3", Status: "COMPLETED",
			CreatedAt: now.Add(-48 * time.Hour), DeleteAt: r.deleteAt}
		if err := db.PutRecoveryPoint(ctx, rp); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var deleted, reclaimed []string
	failOnce := map[string]bool{"arn:rp:2": true}
	e := New(Config{DB: db, Clock: clock.NewFake(now),
		Delete: func(ctx context.Context, rp catalog.RecoveryPoint) error {
			mu.Lock()
			defer mu.Unlock()
			if failOnce[rp.ARN] {
				delete(failOnce, rp.ARN)
				return errors.New("vault busy")
			}
			deleted = append(deleted, rp.ARN)
			return db.DeleteRecoveryPoint(ctx, rp.ARN)
		},
		Reclaim: func(_ context.Context, vault string) { reclaimed = append(reclaimed, vault) },
	})
	for _, tt := range []struct {
		wantN         int
		wantErr       bool
		wantDeleted   []string
		wantReclaimed []string
	}{
		{3, true, []string{"arn:rp:0", "arn:rp:1", "arn:rp:6"}, []string{"a"}},
		{1, false, []string{"arn:rp:2"}, []string{"b"}},
		{0, false, nil, nil},
	} {
		deleted, reclaimed = nil, nil
		n, err := e.Expire(ctx)
		slices.Sort(deleted)
		if n != tt.wantN || (err != nil) != tt.wantErr || !slices.Equal(deleted, tt.wantDeleted) || !slices.Equal(reclaimed, tt.wantReclaimed) {
			t.Fatalf("Expire = %d, %v; deleted %v, reclaimed %v; want %d (error %v), %v, %v",
				n, err, deleted, reclaimed, tt.wantN, tt.wantErr, tt.wantDeleted, tt.wantReclaimed)
		}
	}
}
