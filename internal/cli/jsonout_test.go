package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/aws/smithy-go/middleware"
)

func TestPrintJSON(t *testing.T) {
	created := time.Date(2024, 1, 2, 3, 4, 5, 500_000_000, time.FixedZone("CET", 3600))
	var md middleware.Metadata
	md.Set("k", "v")
	out := &backup.DescribeBackupJobOutput{
		BackupJobId:            aws.String("job-1"),
		State:                  types.BackupJobStateCompleted,
		CreationDate:           &created,
		BackupSizeInBytes:      aws.Int64(42),
		BackupOptions:          map[string]string{"BackupACLs": "disabled"},
		IsEncrypted:            true,
		RecoveryPointLifecycle: &types.Lifecycle{DeleteAfterDays: aws.Int64(7)},
		ResultMetadata:         md,
	}
	var b strings.Builder
	if err := PrintJSON(&b, out); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(b.String()), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, b.String())
	}
	want := map[string]any{
		"BackupJobId":            "job-1",
		"State":                  "COMPLETED",
		"CreationDate":           "2024-01-02T02:04:05.5Z",
		"BackupSizeInBytes":      float64(42),
		"BackupOptions":          map[string]any{"BackupACLs": "disabled"},
		"IsEncrypted":            true,
		"IsParent":               false,
		"RecoveryPointLifecycle": map[string]any{"DeleteAfterDays": float64(7)},
	}
	if len(got) != len(want) {
		t.Errorf("keys: got %v\nwant %v", got, want)
	}
	for k, v := range want {
		if gv, ok := got[k]; !ok || !equalJSON(gv, v) {
			t.Errorf("%s = %#v, want %#v", k, gv, v)
		}
	}
	if strings.Contains(b.String(), "ResultMetadata") {
		t.Errorf("ResultMetadata printed:\n%s", b.String())
	}
	if !strings.Contains(b.String(), "\n  \"BackupJobId\"") {
		t.Errorf("output is not indented:\n%s", b.String())
	}
	if _, err := time.Parse(time.RFC3339, got["CreationDate"].(string)); err != nil {
		t.Errorf("CreationDate not RFC 3339: %v", err)
	}
}

func equalJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func TestPrintJSONLists(t *testing.T) {
	var b strings.Builder
	if err := PrintJSON(&b, map[string][]types.BackupJob{"BackupJobs": {}}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(strings.Fields(b.String()), ""); got != `{"BackupJobs":[]}` {
		t.Errorf("empty list printed as %s", got)
	}
	b.Reset()
	if err := PrintJSON(&b, map[string][]types.BackupJob{"BackupJobs": {{BackupJobId: aws.String("a")}}}); err != nil {
		t.Fatal(err)
	}
	var got struct {
		BackupJobs []struct{ BackupJobId string }
	}
	if err := json.Unmarshal([]byte(b.String()), &got); err != nil || len(got.BackupJobs) != 1 || got.BackupJobs[0].BackupJobId != "a" {
		t.Errorf("list printed as %s (%v)", b.String(), err)
	}
}
