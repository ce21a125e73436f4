package jobstore

import (
	"fmt"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
)

// TestListCopyAndVerificationJobs: the shared part of the listings
// (state, states, creation and completion ranges) filters copy and
// verification jobs alike, beside each kind's own columns.
func TestListCopyAndVerificationJobs(t *testing.T) { forEachEngine(t, testListCopyAndVerificationJobs) }

func testListCopyAndVerificationJobs(t *testing.T, open opener) {
	db := open(t)
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for i, vault := range []string{"a", "b", "a"} {
		c := CopyJob{ID: fmt.Sprintf("C%d", i), SourceVaultName: "src", DestinationVaultName: vault, DestinationVaultARN: "arn:" + vault,
			State: "CREATED", CreatedAt: base.Add(time.Duration(i) * time.Minute)}
		if err := db.InsertCopyJob(ctx, c, nil); err != nil {
			t.Fatal(err)
		}
		v := VerificationJob{ID: fmt.Sprintf("V%d", i), VaultName: vault, State: "CREATED", CreatedAt: c.CreatedAt}
		if err := db.InsertVerificationJob(ctx, v, nil); err != nil {
			t.Fatal(err)
		}
		if i == 0 { // C0 and V0 run
			c.State, c.StartedAt = "RUNNING", base
			if ok, err := db.ClaimCopyJob(ctx, c); err != nil || !ok {
				t.Fatalf("claim %s: %v %v", c.ID, ok, err)
			}
			v.State = "RUNNING"
			if ok, err := db.ClaimVerificationJob(ctx, v); err != nil || !ok {
				t.Fatalf("claim %s: %v %v", v.ID, ok, err)
			}
		}
	}
	tests := []struct {
		name        string
		copies      CopyJobFilter
		verifies    VerificationJobFilter
		wantCopies  string
		wantVerifys string
	}{
		{"all, newest first", CopyJobFilter{}, VerificationJobFilter{}, "[C2 C1 C0]", "[V2 V1 V0]"},
		{"state", CopyJobFilter{State: "RUNNING"}, VerificationJobFilter{State: "RUNNING"}, "[C0]", "[V0]"},
		{"states", CopyJobFilter{States: []string{"CREATED", "FAILED"}}, VerificationJobFilter{States: []string{"CREATED"}}, "[C2 C1]", "[V2 V1]"},
		{"state and states", CopyJobFilter{State: "RUNNING", States: []string{"CREATED"}}, VerificationJobFilter{State: "CREATED", States: []string{"RUNNING"}}, "[]", "[]"},
		{"created range", CopyJobFilter{CreatedAfter: base, CreatedBefore: base.Add(2 * time.Minute)},
			VerificationJobFilter{CreatedAfter: base, CreatedBefore: base.Add(2 * time.Minute)}, "[C1]", "[V1]"},
		{"own column", CopyJobFilter{DestinationVaultARN: "arn:a"}, VerificationJobFilter{VaultName: "a"}, "[C2 C0]", "[V2 V0]"},
		{"unfinished never completed before", CopyJobFilter{CompleteBefore: base.Add(time.Hour)}, VerificationJobFilter{VaultName: "none"}, "[]", "[]"},
	}
	for _, tt := range tests {
		copies, _, err := db.ListCopyJobs(ctx, tt.copies, catalog.Page{})
		if err != nil {
			t.Fatal(err)
		}
		verifies, _, err := db.ListVerificationJobs(ctx, tt.verifies, catalog.Page{})
		if err != nil {
			t.Fatal(err)
		}
		var cids, vids []string
		for _, j := range copies {
			cids = append(cids, j.ID)
		}
		for _, j := range verifies {
			vids = append(vids, j.ID)
		}
		if fmt.Sprint(cids) != tt.wantCopies || fmt.Sprint(vids) != tt.wantVerifys {
			t.Errorf("%s: copies %v, verifications %v; want %s, %s", tt.name, cids, vids, tt.wantCopies, tt.wantVerifys)
		}
	}
}
