package jobstore

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
)

// TestVaultJobsAndMaintenanceExclude: a backup or restore and a
// maintenance of one vault are never RUNNING at once, whichever process
// claims them (the check is in the catalog), and racing claims of both
// never both win.
func TestVaultJobsAndMaintenanceExclude(t *testing.T) {
	forEachEngine(t, testVaultJobsAndMaintenanceExclude)
}

func testVaultJobsAndMaintenanceExclude(t *testing.T, open opener) {
	db := open(t)
	if err := db.CreateVault(ctx, catalog.Vault{Name: "v", ID: "v-1", ARN: "arn:v", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	backup := func(id string) BackupJob {
		j := BackupJob{ID: id, VaultName: "v", VaultARN: "arn:v", ResourceARN: "arn:aws:s3:::" + id, ResourceType: "S3",
			State: "CREATED", PercentDone: "0.0"}
		if err := db.InsertBackupJob(ctx, j, nil); err != nil {
			t.Fatal(err)
		}
		j.State, j.Owner = "RUNNING", "p1"
		return j
	}
	maint := func(id string) MaintenanceJob {
		m := MaintenanceJob{ID: id, VaultName: "v", VaultARN: "arn:v", State: "CREATED", Trigger: "ON_DEMAND"}
		if err := db.InsertMaintenanceJob(ctx, m, nil); err != nil {
			t.Fatal(err)
		}
		m.State, m.Owner = "RUNNING", "p2"
		return m
	}
	claimBackup := func(j BackupJob) bool {
		t.Helper()
		ok, err := db.ClaimBackupJob(ctx, j, []string{"CREATED", "PENDING"}, []string{"RUNNING", "ABORTING"})
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	claimMaint := func(m MaintenanceJob) bool {
		t.Helper()
		ok, err := db.ClaimMaintenanceJob(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	b := backup("B1")
	if !claimBackup(b) {
		t.Fatal("backup not claimed on an idle vault")
	}
	m := maint("M1")
	if claimMaint(m) {
		t.Fatal("maintenance claimed while a backup of the vault runs")
	}
	b.State = "COMPLETED"
	if ok, err := db.TransitionBackupJob(ctx, b, "RUNNING"); err != nil || !ok {
		t.Fatalf("end backup: %v %v", ok, err)
	}
	if !claimMaint(m) {
		t.Fatal("maintenance not claimed once the backup ended")
	}
	if running, err := db.MaintenanceRunning(ctx, "v"); err != nil || !running {
		t.Fatalf("MaintenanceRunning: %v %v", running, err)
	}
	if claimBackup(backup("B2")) {
		t.Fatal("backup claimed while maintenance of the vault runs")
	}
	r := RestoreJob{ID: "R1", RecoveryPointARN: "arn:rp", VaultName: "v", VaultARN: "arn:v", ResourceType: "S3", Status: "PENDING", PercentDone: "0.0"}
	if err := db.InsertRestoreJob(ctx, r, nil); err != nil {
		t.Fatal(err)
	}
	r.Status, r.Owner = "RUNNING", "p1"
	if ok, err := db.ClaimRestoreJob(ctx, r); err != nil || ok {
		t.Fatalf("restore claimed while maintenance runs: %v %v", ok, err)
	}
	m.State = "COMPLETED"
	if ok, err := db.TransitionMaintenanceJob(ctx, m, "RUNNING"); err != nil || !ok {
		t.Fatalf("end maintenance: %v %v", ok, err)
	}
	if ok, err := db.ClaimRestoreJob(ctx, r); err != nil || !ok {
		t.Fatalf("restore not claimed once maintenance ended: %v %v", ok, err)
	}
	r.Status = "COMPLETED"
	if ok, err := db.TransitionRestoreJob(ctx, r, "RUNNING"); err != nil || !ok {
		t.Fatalf("end restore: %v %v", ok, err)
	}

	// Racing claims, as two processes would make them.
	for i := range 15 {
		bj, mj := backup(fmt.Sprintf("RB%02d", i)), maint(fmt.Sprintf("RM%02d", i))
		var wg sync.WaitGroup
		var bOK, mOK bool
		wg.Add(2)
		go func() {
			defer wg.Done()
			bOK, _ = db.ClaimBackupJob(ctx, bj, []string{"CREATED"}, []string{"RUNNING", "ABORTING"})
		}()
		go func() { defer wg.Done(); mOK, _ = db.ClaimMaintenanceJob(ctx, mj) }()
		wg.Wait()
		if bOK == mOK {
			t.Fatalf("race %d: backup claimed %v, maintenance claimed %v: want exactly one", i, bOK, mOK)
		}
		// End the winner, drop the loser, for the next round.
		if bOK {
			bj.State = "COMPLETED"
			_, _ = db.TransitionBackupJob(ctx, bj, "RUNNING")
			mj.State = "ABORTED"
			_, _ = db.TransitionMaintenanceJob(ctx, mj, "CREATED")
		} else {
			mj.State = "COMPLETED"
			_, _ = db.TransitionMaintenanceJob(ctx, mj, "RUNNING")
			bj.State = "ABORTED"
			_, _ = db.TransitionBackupJob(ctx, bj, "CREATED")
		}
	}
}

// TestOneBackupPerBucketAcrossVaults: two backups of one bucket into two
// vaults, claimed at once (as two processes would), never both run.
func TestOneBackupPerBucketAcrossVaults(t *testing.T) {
	forEachEngine(t, testOneBackupPerBucketAcrossVaults)
}

func testOneBackupPerBucketAcrossVaults(t *testing.T, open opener) {
	db := open(t)
	for _, v := range []string{"v1", "v2"} {
		if err := db.CreateVault(ctx, catalog.Vault{Name: v, ID: v + "-id", ARN: "arn:" + v, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 15 {
		var jobs []BackupJob
		for _, v := range []string{"v1", "v2"} {
			j := BackupJob{ID: fmt.Sprintf("%s-%02d", v, i), VaultName: v, VaultARN: "arn:" + v, ResourceARN: "arn:aws:s3:::b",
				ResourceType: "S3", State: "CREATED", PercentDone: "0.0"}
			if err := db.InsertBackupJob(ctx, j, nil); err != nil {
				t.Fatal(err)
			}
			j.State = "RUNNING"
			jobs = append(jobs, j)
		}
		won := make([]bool, 2)
		var wg sync.WaitGroup
		for k := range jobs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				won[k], _ = db.ClaimBackupJob(ctx, jobs[k], []string{"CREATED"}, []string{"RUNNING", "ABORTING"})
			}()
		}
		wg.Wait()
		if won[0] == won[1] {
			t.Fatalf("round %d: claims won %v, want exactly one", i, won)
		}
		for k, j := range jobs {
			from := "CREATED"
			if won[k] {
				from = "RUNNING"
			}
			j.State = "ABORTED"
			if ok, err := db.TransitionBackupJob(ctx, j, from); err != nil || !ok {
				t.Fatalf("end %s: %v %v", j.ID, ok, err)
			}
		}
	}
}

// TestClaimsWaitForMaintenance: a copy job (of either of its vaults) and
// a verification job are not claimed while maintenance of their vault
// runs, and are once it ended; maintenance of another vault does not
// hold them.
func TestClaimsWaitForMaintenance(t *testing.T) { forEachEngine(t, testClaimsWaitForMaintenance) }

func testClaimsWaitForMaintenance(t *testing.T, open opener) {
	db := open(t)
	for _, name := range []string{"src", "dst", "other"} {
		if err := db.CreateVault(ctx, catalog.Vault{Name: name, ID: "id-" + name, ARN: "arn:" + name, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, maintained string
		want             bool // claimed while maintenance of maintained runs
		claim            func(id string) (bool, error)
	}{
		{"copy, source maintained", "src", false, nil},
		{"copy, destination maintained", "dst", false, nil},
		{"copy, other vault maintained", "other", true, nil},
		{"verification maintained", "src", false, nil},
		{"verification, other vault maintained", "dst", true, nil},
	}
	for i := range tests {
		tc := &tests[i]
		if strings.HasPrefix(tc.name, "copy") {
			tc.claim = func(id string) (bool, error) {
				c := CopyJob{ID: id, SourceVaultName: "src", DestinationVaultName: "dst", DestinationVaultARN: "arn:dst", State: "CREATED"}
				if err := db.InsertCopyJob(ctx, c, nil); err != nil {
					t.Fatal(err)
				}
				c.State, c.Owner = "RUNNING", "p1"
				ok, err := db.ClaimCopyJob(ctx, c)
				if ok { // ended, so that it holds no later case's maintenance
					c.State = "COMPLETED"
					_, err = db.TransitionCopyJob(ctx, c, "RUNNING")
				}
				return ok, err
			}
		} else {
			tc.claim = func(id string) (bool, error) {
				v := VerificationJob{ID: id, VaultName: "src", State: "CREATED"}
				if err := db.InsertVerificationJob(ctx, v, nil); err != nil {
					t.Fatal(err)
				}
				v.State, v.Owner = "RUNNING", "p1"
				ok, err := db.ClaimVerificationJob(ctx, v)
				if ok {
					v.State = "COMPLETED"
					_, err = db.TransitionVerificationJobTx(ctx, v, nil, "RUNNING")
				}
				return ok, err
			}
		}
	}
	for i, tc := range tests {
		m := MaintenanceJob{ID: fmt.Sprintf("M%d", i), VaultName: tc.maintained, VaultARN: "arn:" + tc.maintained, State: "CREATED", Trigger: "ON_DEMAND"}
		if err := db.InsertMaintenanceJob(ctx, m, nil); err != nil {
			t.Fatal(err)
		}
		m.State, m.Owner = "RUNNING", "p2"
		if ok, err := db.ClaimMaintenanceJob(ctx, m); err != nil || !ok {
			t.Fatalf("%s: claim maintenance: %v %v", tc.name, ok, err)
		}
		if ok, err := tc.claim(fmt.Sprintf("J%d-a", i)); err != nil || ok != tc.want {
			t.Errorf("%s: claimed %v (%v) while maintenance runs, want %v", tc.name, ok, err, tc.want)
		}
		m.State = "COMPLETED"
		if ok, err := db.TransitionMaintenanceJob(ctx, m, "RUNNING"); err != nil || !ok {
			t.Fatalf("%s: end maintenance: %v %v", tc.name, ok, err)
		}
		if ok, err := tc.claim(fmt.Sprintf("J%d-b", i)); err != nil || !ok {
			t.Errorf("%s: not claimed once maintenance ended: %v %v", tc.name, ok, err)
		}
	}
}
