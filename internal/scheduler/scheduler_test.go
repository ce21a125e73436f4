package scheduler

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/planstore"
	"github.com/cofferbackup/coffer/internal/clock"
	"github.com/cofferbackup/coffer/internal/plan"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// recordingBackups is the scheduler's Backups boundary as a recorder: the
// service behind it has its own tests. Backups of refused buckets are
// refused as the service refuses them (a vocab sentinel error).
type recordingBackups struct {
	mu       sync.Mutex
	started  map[string]ScheduledBackup // by idempotency token
	refused  []string                   // resource ARNs
	refuseOf map[string]bool
}

func (r *recordingBackups) StartScheduled(_ context.Context, b ScheduledBackup) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refuseOf[b.ResourceARN] {
		return fmt.Errorf("backup vault %q: %w", b.VaultName, vocab.ErrNotFound)
	}
	r.started[b.IdempotencyToken] = b
	return nil
}

func (r *recordingBackups) RecordRefused(_ context.Context, b ScheduledBackup, _ error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refused = append(r.refused, b.ResourceARN)
	return nil
}

type staticBuckets map[string]map[string]string // bucket -> tags

func (b staticBuckets) ListBuckets(context.Context) ([]string, error) {
	var out []string
	for name := range b {
		out = append(out, name)
	}
	sort.Strings(out)
	return out, nil
}

func (b staticBuckets) BucketTags(_ context.Context, bucket string) (map[string]string, error) {
	return b[bucket], nil
}

func TestRunSchedules(t *testing.T) {
	ctx := context.Background()
	db, err := catalog.OpenSQLite(ctx, filepath.Join(t.TempDir(), "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.CreateVault(ctx, catalog.Vault{Name: "v", ID: "v-1", ARN: "arn:v", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 6, 1, 9, 30, 0, 0, time.UTC))
	rec := &recordingBackups{started: map[string]ScheduledBackup{}, refuseOf: map[string]bool{"arn:aws:s3:::gone": true}}
	buckets := staticBuckets{"prod-a": {"env": "prod"}, "prod-b": {"env": "prod"}, "dev": {"env": "dev"}, "gone": {"env": "prod"}}
	s := New(Config{DB: db, Plans: planstore.New(db), Clock: clk, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Names: vocab.Names{Region: "us-east-1", AccountID: "000000000000"}, Backups: rec,
		Buckets: func(context.Context, string) (Buckets, error) { return buckets, nil }})
	window := int64(60)
	p, err := s.CreatePlan(ctx, plan.Document{BackupPlanName: "hourly", Rules: []plan.Rule{{RuleName: "h",
		TargetBackupVaultName: "v", ScheduleExpression: "cron(0 * ? * * *)", StartWindowMinutes: &window}}}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateSelection(ctx, p.ID, plan.Selection{SelectionName: "prod", IamRoleArn: "arn:aws:iam::000000000000:role/x",
		Resources: []string{"*"}, Conditions: &plan.Conditions{StringEquals: []plan.Condition{{ConditionKey: "aws:ResourceTag/env", ConditionValue: "prod"}}}}, ""); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name        string
		advance     time.Duration
		wantStarted int // jobs started in total so far
		wantRefused int
		wantMissed  int
	}{
		{"before the first run", 0, 0, 0, 0},
		{"10:00 is due", 31 * time.Minute, 2, 1, 0},
		{"again at once: nothing new", time.Minute, 2, 1, 0},
		{"three hours later: the newest starts, two are missed", 3 * time.Hour, 4, 2, 2},
	}
	for _, st := range steps {
		clk.Advance(st.advance)
		if _, err := s.RunSchedules(ctx); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		runs := countRuns(t, planstore.New(db), p.ID, p.Doc.Rules[0].RuleId)
		if len(rec.started) != st.wantStarted || len(rec.refused) != st.wantRefused || runs[RunMissed] != st.wantMissed {
			t.Fatalf("%s: started %d, refused %d, missed %d; want %d, %d, %d", st.name, len(rec.started), len(rec.refused),
				runs[RunMissed], st.wantStarted, st.wantRefused, st.wantMissed)
		}
	}
	for _, b := range rec.started {
		if b.ResourceARN == "arn:aws:s3:::dev" || b.PlanID != p.ID || b.StartWindowMinutes != 60 || b.VaultName != "v" {
			t.Errorf("scheduled backup %+v: want prod buckets of rule h into v, 60 minute window", b)
		}
	}
}

// countRuns counts the rule's recorded runs by status.
func countRuns(t *testing.T, plans *planstore.Store, planID, ruleID string) map[string]int {
	t.Helper()
	runs, _, err := plans.ListPlanRuns(context.Background(), planID, ruleID, catalog.Page{Max: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range runs {
		out[r.Status]++
	}
	return out
}
