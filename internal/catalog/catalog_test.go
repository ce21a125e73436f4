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

func TestBackupJobsFilterAndUpdate(t *testing.T) { forEachEngine(t, testBackupJobsFilterAndUpdate) }

func testBackupJobsFilterAndUpdate(t *testing.T, open opener) {
	db := open(t)
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	states := []string{"COMPLETED", "FAILED", "RUNNING", "COMPLETED"}
	for i, st := range states {
		j := BackupJob{ID: fmt.Sprintf("J%d", i), VaultName: "v", VaultARN: "arn:v", ResourceARN: "arn:aws:s3:::b",
			ResourceType: "S3", State: "CREATED", CreatedAt: base.Add(time.Duration(i) * time.Minute), PercentDone: "0.0",
			IdempotencyToken: fmt.Sprintf("tok%d", i), BackupOptions: map[string]string{"BackupACLs": "disabled"}}
		if err := db.InsertBackupJob(ctx, j, nil); err != nil {
			t.Fatal(err)
		}
		moveBackupJob(t, db, j, "RUNNING", st)
	}
	j, err := db.BackupJob(ctx, "J2")
	if err != nil || j.BackupOptions["BackupACLs"] != "disabled" {
		t.Fatalf("read: %+v %v", j, err)
	}
	j.State, j.CompletedAt, j.BytesTransferred = "COMPLETED", base.Add(time.Hour), 42
	if ok, err := db.TransitionBackupJob(ctx, j, "RUNNING"); err != nil || !ok {
		t.Fatalf("RUNNING -> COMPLETED: %v %v", ok, err)
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
		{"token", BackupJobFilter{IdempotencyToken: "tok1"}, 1},
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

func TestBackupJobTransitions(t *testing.T) { forEachEngine(t, testBackupJobTransitions) }

func testBackupJobTransitions(t *testing.T, open opener) {
	db := open(t)
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	job := func(id, resource, state, token string) BackupJob {
		return BackupJob{ID: id, VaultName: "v", VaultARN: "arn:v", ResourceARN: resource, ResourceType: "S3",
			State: state, CreatedAt: base, PercentDone: "0.0", IdempotencyToken: token}
	}
	for _, j := range []BackupJob{job("A", "arn:aws:s3:::a", "CREATED", "t1"), job("B", "arn:aws:s3:::a", "CREATED", ""),
		job("C", "arn:aws:s3:::c", "CREATED", "")} {
		if err := db.InsertBackupJob(ctx, j, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.InsertBackupJob(ctx, job("D", "arn:aws:s3:::d", "CREATED", "t1"), nil); !errors.Is(err, ErrExists) {
		t.Fatalf("second job with token t1: %v", err)
	}
	boom := errors.New("boom")
	if err := db.InsertBackupJob(ctx, job("E", "arn:aws:s3:::e", "CREATED", ""), func(*Tx) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("insert with failing TxFunc: %v", err)
	}
	if _, err := db.BackupJob(ctx, "E"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("job E survived its rolled-back transaction: %v", err)
	}
	from, busy := []string{"CREATED", "PENDING"}, []string{"RUNNING", "ABORTING"}
	claim := func(j BackupJob) bool {
		t.Helper()
		j.State = "RUNNING"
		ok, err := db.ClaimBackupJob(ctx, j, from, busy)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	tests := []struct {
		name string
		do   func() bool
		want bool
	}{
		{"claim A", func() bool { return claim(job("A", "arn:aws:s3:::a", "", "")) }, true},
		{"claim B while A runs", func() bool { return claim(job("B", "arn:aws:s3:::a", "", "")) }, false},
		{"claim C, other bucket", func() bool { return claim(job("C", "arn:aws:s3:::c", "", "")) }, true},
		{"claim A again", func() bool { return claim(job("A", "arn:aws:s3:::a", "", "")) }, false},
		{"A RUNNING->ABORTING", func() bool { return transition(t, db, job("A", "arn:aws:s3:::a", "ABORTING", ""), "RUNNING") }, true},
		{"claim B while A aborts", func() bool { return claim(job("B", "arn:aws:s3:::a", "", "")) }, false},
		{"A ABORTING->ABORTED", func() bool {
			return transition(t, db, job("A", "arn:aws:s3:::a", "ABORTED", ""), "RUNNING", "ABORTING")
		}, true},
		{"A ABORTED->ABORTING refused", func() bool { return transition(t, db, job("A", "arn:aws:s3:::a", "ABORTING", ""), "RUNNING") }, false},
		{"claim B after A", func() bool { return claim(job("B", "arn:aws:s3:::a", "", "")) }, true},
	}
	for _, tt := range tests {
		if got := tt.do(); got != tt.want {
			t.Fatalf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	for id, want := range map[string]string{"A": "ABORTED", "B": "RUNNING", "C": "RUNNING"} {
		if j, err := db.BackupJob(ctx, id); err != nil || j.State != want {
			t.Errorf("job %s: %s %v, want %s", id, j.State, err, want)
		}
	}
}

func transition(t *testing.T, db *DB, j BackupJob, from ...string) bool {
	t.Helper()
	ok, err := db.TransitionBackupJob(ctx, j, from...)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// moveBackupJob moves j through states, each a transition from the one
// before (the first from j's stored state); equal neighbours are skipped.
func moveBackupJob(t *testing.T, db *DB, j BackupJob, states ...string) {
	t.Helper()
	cur, err := db.BackupJob(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range states {
		if st == cur.State {
			continue
		}
		next := cur
		next.State = st
		if ok, err := db.TransitionBackupJob(ctx, next, cur.State); err != nil || !ok {
			t.Fatalf("job %s %s -> %s: %v %v", j.ID, cur.State, st, ok, err)
		}
		cur = next
	}
}
