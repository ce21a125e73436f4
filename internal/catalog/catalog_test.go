package catalog

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

var ctx = context.Background()

func openTest(t *testing.T) *DB {
	t.Helper()
	db, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestMigrationsAreIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	files, err := migrations.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		db, err := OpenSQLite(ctx, path)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		var n int
		if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(files) {
			t.Fatalf("open %d: %d migrations recorded (%v)", i, n, err)
		}
		db.Close()
	}
}

func TestVaultsAndRecoveryPoints(t *testing.T) {
	db := openTest(t)
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

func TestBackupJobsFilterAndUpdate(t *testing.T) {
	db := openTest(t)
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	states := []string{"COMPLETED", "FAILED", "RUNNING", "COMPLETED"}
	for i, st := range states {
		j := BackupJob{ID: fmt.Sprintf("J%d", i), VaultName: "v", VaultARN: "arn:v", ResourceARN: "arn:aws:s3:::b",
			ResourceType: "S3", State: st, CreatedAt: base.Add(time.Duration(i) * time.Minute), PercentDone: "0.0",
			IdempotencyToken: fmt.Sprintf("tok%d", i%2), BackupOptions: map[string]string{"BackupACLs": "disabled"}}
		if err := db.InsertBackupJob(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	j, err := db.BackupJob(ctx, "J2")
	if err != nil || j.BackupOptions["BackupACLs"] != "disabled" {
		t.Fatalf("read: %+v %v", j, err)
	}
	j.State, j.CompletedAt, j.BytesTransferred = "COMPLETED", base.Add(time.Hour), 42
	if err := db.UpdateBackupJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	j.PercentDone, j.State = "50.0", "RUNNING" // progress updates leave the state alone
	if err := db.UpdateBackupJobProgress(ctx, j); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.BackupJob(ctx, "J2"); got.State != "COMPLETED" || got.PercentDone != "50.0" || got.BytesTransferred != 42 {
		t.Fatalf("after updates: %+v", got)
	}
	tests := []struct {
		name string
		f    BackupJobFilter
		want int
	}{
		{"all", BackupJobFilter{}, 4},
		{"state", BackupJobFilter{State: "COMPLETED"}, 3},
		{"states", BackupJobFilter{States: []string{"FAILED", "RUNNING"}}, 1},
		{"token", BackupJobFilter{IdempotencyToken: "tok1"}, 2},
		{"created", BackupJobFilter{CreatedAfter: base, CreatedBefore: base.Add(3 * time.Minute)}, 2},
		{"completed", BackupJobFilter{CompleteAfter: base.Add(30 * time.Minute)}, 1},
		{"vault", BackupJobFilter{VaultName: "w"}, 0},
	}
	for _, tt := range tests {
		jobs, _, err := db.ListBackupJobs(ctx, tt.f, Page{})
		if err != nil || len(jobs) != tt.want {
			t.Errorf("%s: %d jobs, want %d (%v)", tt.name, len(jobs), tt.want, err)
		}
	}
	if _, err := db.BackupJob(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing job: %v", err)
	}
}
