package capturestore

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
)

// TestProtections: a protection and its continuous recovery point are
// created together, a second protection of the same target is refused,
// one capture job at a time is recorded, and updates reach both rows.
func TestProtections(t *testing.T) {
	forEachEngine(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		db := open(t)
		at := time.Date(2026, 3, 4, 5, 6, 7, 89_000_000, time.UTC)
		if err := db.CreateVault(ctx, catalog.Vault{Name: "v1", ID: "v-1", ARN: "arn:v1", CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
		p := Protection{RPARN: "arn:rp:continuous:b-1", RPID: "continuous:b-1", VaultName: "v1", Connection: "default",
			Bucket: "b", ResourceARN: "arn:aws:s3:::b", PlanID: "p", RuleID: "r", State: "CREATING", DeleteAfterDays: 7,
			Options: map[string]string{"BackupACLs": "enabled"}, CreatedAt: at, NextScanAt: at}
		rp := catalog.RecoveryPoint{ARN: p.RPARN, ID: p.RPID, VaultName: "v1", ResourceARN: p.ResourceARN, ResourceType: "S3",
			Status: "CREATING", CreatedAt: at, DeleteAfterDays: 7}
		if err := db.CreateProtection(ctx, p, rp); err != nil {
			t.Fatal(err)
		}
		dup := p
		dup.RPARN, dup.RPID = "arn:rp:continuous:b-2", "continuous:b-2"
		rp2 := rp
		rp2.ARN, rp2.ID = dup.RPARN, dup.RPID
		if err := db.CreateProtection(ctx, dup, rp2); !errors.Is(err, catalog.ErrExists) {
			t.Fatalf("second protection of the target: %v, want ErrExists", err)
		}
		if _, err := db.RecoveryPointByARN(ctx, rp2.ARN); !errors.Is(err, catalog.ErrNotFound) {
			t.Fatalf("refused protection left its recovery point: %v", err)
		}
		got, err := db.Protection(ctx, p.RPARN)
		if err != nil || !reflect.DeepEqual(got, p) {
			t.Fatalf("Protection = %+v, %v\nwant %+v", got, err, p)
		}
		for i, tc := range []struct {
			job  string
			want bool
		}{{"j1", true}, {"j2", false}} {
			ok, err := db.QueueCapture(ctx, p.RPARN, tc.job, "scan", at, nil)
			if err != nil || ok != tc.want {
				t.Fatalf("queue %d: %v, %v; want %v", i, ok, err, tc.want)
			}
		}
		if ok, err := db.ClearCapture(ctx, p.RPARN, "j2"); err != nil || ok {
			t.Fatalf("clear another job: %v, %v", ok, err)
		}
		if ok, err := db.ClearCapture(ctx, p.RPARN, "j1"); err != nil || !ok {
			t.Fatalf("clear the job: %v, %v", ok, err)
		}
		p.State, p.LastScanStart, p.CoveredAt, p.Failures = "AVAILABLE", at.Add(time.Second), at.Add(2*time.Second), 1
		if err := db.UpdateProtection(ctx, p, at, 10, 2); err != nil {
			t.Fatal(err)
		}
		all, err := db.Protections(ctx)
		if err != nil || len(all) != 1 || all[0].State != "AVAILABLE" || !all[0].CoveredAt.Equal(p.CoveredAt) || all[0].JobSeq != 1 {
			t.Fatalf("Protections = %+v, %v", all, err)
		}
		r, err := db.RecoveryPoint(ctx, "v1", p.RPARN)
		if err != nil || r.Kind != catalog.KindContinuous || r.Status != "AVAILABLE" || !r.EarliestRestorable.Equal(at) ||
			!r.LatestRestorable.Equal(p.CoveredAt) || r.SizeBytes != 10 || r.ObjectCount != 2 {
			t.Fatalf("recovery point = %+v, %v", r, err)
		}
	})
}
