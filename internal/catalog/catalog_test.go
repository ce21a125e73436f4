package catalog

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

var ctx = context.Background()

// openTest opens a fresh SQLite catalog, for tests not (yet) run on
// every engine; prefer forEachEngine.
//
//lint:ignore U1000 kept for catalog tests other branches add with it
func openTest(t *testing.T) *DB {
	t.Helper()
	return newOpener(t, SQLite)(t)
}

func TestMigrationsAreIdempotent(t *testing.T) { forEachEngine(t, testMigrationsAreIdempotent) }

func testMigrationsAreIdempotent(t *testing.T, open opener) {
	files, err := migrations.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		db := open(t)
		var n int
		if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(files) {
			t.Fatalf("open %d: %d migrations recorded (%v)", i, n, err)
		}
		db.Close()
	}
}

func TestVaultsAndRecoveryPoints(t *testing.T) { forEachEngine(t, testVaultsAndRecoveryPoints) }

func testVaultsAndRecoveryPoints(t *testing.T, open opener) {
	db := open(t)
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for i, name := range []string{"c", "a", "b"} {
		if err := db.CreateVault(ctx, Vault{Name: name, ID: "id-" + name, ARN: "arn:" + name, Tags: map[string]string{"i": fmt.Sprint(i)}, CreatedAt: base}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.CreateVault(ctx, Vault{Name: "a", ID: "other", ARN: "x", CreatedAt: base}); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate vault: %v", err)
	}
	for i := 0; i < 5; i++ {
		rp := RecoveryPoint{ARN: fmt.Sprintf("rp-%d", i), ID: fmt.Sprint(i), VaultName: "a", ResourceARN: "arn:aws:s3:::b" + fmt.Sprint(i%2),
			ResourceType: "S3", Status: "COMPLETED", CreatedAt: base.Add(time.Duration(i) * time.Hour), SizeBytes: int64(i)}
		if i < 2 {
			rp.DeleteAfterDays, rp.DeleteAt = 1, rp.CreatedAt.Add(24*time.Hour)
		}
		if err := db.PutRecoveryPoint(ctx, rp); err != nil {
			t.Fatal(err)
		}
	}
	v, err := db.Vault(ctx, "a")
	if err != nil || v.RecoveryPoints != 5 || v.Tags["i"] != "1" || !v.CreatedAt.Equal(base) {
		t.Fatalf("vault a: %+v %v", v, err)
	}
	if _, err := db.Vault(ctx, "zz"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing vault: %v", err)
	}
	tests := []struct {
		name string
		f    RecoveryPointFilter
		want []string
	}{
		{"all newest first", RecoveryPointFilter{VaultName: "a"}, []string{"rp-4", "rp-3", "rp-2", "rp-1", "rp-0"}},
		{"by resource", RecoveryPointFilter{ResourceARN: "arn:aws:s3:::b1"}, []string{"rp-3", "rp-1"}},
		{"created after", RecoveryPointFilter{CreatedAfter: base.Add(150 * time.Minute)}, []string{"rp-4", "rp-3"}},
		{"created before", RecoveryPointFilter{CreatedBefore: base.Add(30 * time.Minute)}, []string{"rp-0"}},
		{"due", RecoveryPointFilter{DueBefore: base.Add(24*time.Hour + time.Minute)}, []string{"rp-0"}},
		{"other vault", RecoveryPointFilter{VaultName: "b"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			p := Page{Max: 2}
			for {
				rps, tok, err := db.ListRecoveryPoints(ctx, tt.f, p)
				if err != nil {
					t.Fatal(err)
				}
				for _, rp := range rps {
					got = append(got, rp.ARN)
				}
				if tok == "" {
					break
				}
				p.Token = tok
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	if _, _, err := db.ListVaults(ctx, Page{Token: "!!"}); !errors.Is(err, ErrBadToken) {
		t.Fatalf("bad token: %v", err)
	}
}
