package vault_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/jobreport"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vault/vaulttest"
)

// TestJobRecords writes a restore's items and job reports: they survive a
// reopen and maintenance, the newest report wins, and no key is in the
// vault's files in clear.
func TestJobRecords(t *testing.T) {
	ctx := vaulttest.Ctx(t)
	dir := filepath.Join(t.TempDir(), "v")
	v := vaulttest.Create(t, dir)
	const key = "customers/ACME-Corp-salaries.xlsx"
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

	if _, err := v.JobReport(ctx, "job-1"); !errors.Is(err, vault.ErrNotFound) {
		t.Fatalf("report of an unknown job: %v, want vault.ErrNotFound", err)
	}
	if _, err := v.RestoreItems(ctx, "job-1"); !errors.Is(err, vault.ErrNotFound) {
		t.Fatalf("items of an unknown job: %v, want vault.ErrNotFound", err)
	}
	items := vault.RestoreItems{JobID: "job-1", Items: []string{"s3://b/" + key}, CreatedAt: created}
	if err := v.PutRestoreItems(ctx, items); err != nil {
		t.Fatal(err)
	}
	first := jobreport.Report{JobID: "job-1", Kind: jobreport.KindRestore, State: "RUNNING"}
	last := jobreport.Report{Version: jobreport.Version, JobID: "job-1", Kind: jobreport.KindRestore, State: "FAILED", CompletedAt: created,
		Items: items.Items, Skipped: []string{key}, SkippedCount: 1, FailedCount: 1,
		Failures: []jobreport.Failure{{Key: key + "2", VersionID: "v1", Reason: "denied"}}}
	other := jobreport.Report{Version: jobreport.Version, JobID: "job-2", Kind: jobreport.KindBackup, State: "COMPLETED"}
	for _, r := range []jobreport.Report{first, last, other} {
		if err := v.PutJobReport(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	vaulttest.Close(t, v)
	v = vaulttest.Open(t, dir)
	defer vaulttest.Close(t, v)
	mustMaintain(t, v)

	tests := []struct {
		id   string
		want jobreport.Report
	}{{"job-1", last}, {"job-2", other}}
	for _, tt := range tests {
		if got, err := v.JobReport(ctx, tt.id); err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("report of %s: %+v, %v; want %+v", tt.id, got, err, tt.want)
		}
	}
	if got, err := v.RestoreItems(ctx, "job-1"); err != nil || !reflect.DeepEqual(got, items) {
		t.Errorf("items: %+v, %v; want %+v", got, err, items)
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, []byte("ACME-Corp")) {
			t.Errorf("%s holds the key in clear", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
