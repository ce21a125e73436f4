package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/tags"

	"github.com/cofferbackup/coffer/internal/backup/backuptest"
	"github.com/cofferbackup/coffer/internal/coffertest"
	"github.com/cofferbackup/coffer/internal/service"
)

// protectContinuously makes a plan whose continuous rule protects bucket
// into vault and returns the continuous recovery point once AVAILABLE.
func protectContinuously(t *testing.T, e *coffertest.Env, vault, bucket string) string {
	t.Helper()
	p, err := e.Client.CreateBackupPlan(ctx, &backup.CreateBackupPlanInput{BackupPlan: &types.BackupPlanInput{
		BackupPlanName: aws.String("continuous"),
		Rules: []types.BackupRuleInput{{RuleName: aws.String("pitr"), TargetBackupVaultName: aws.String(vault),
			ScheduleExpression: aws.String("cron(0 5 ? * * *)"), EnableContinuousBackup: aws.Bool(true)}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Client.CreateBackupSelection(ctx, &backup.CreateBackupSelectionInput{BackupPlanId: p.BackupPlanId,
		BackupSelection: &types.BackupSelection{SelectionName: aws.String("b"), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x"),
			Resources: []string{"arn:aws:s3:::" + bucket}}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		out, err := e.Client.ListRecoveryPointsByBackupVault(ctx, &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: aws.String(vault)})
		if err != nil {
			t.Fatal(err)
		}
		for _, rp := range out.RecoveryPoints {
			if strings.Contains(aws.ToString(rp.RecoveryPointArn), ":continuous:") && rp.Status == types.RecoveryPointStatusAvailable {
				return aws.ToString(rp.RecoveryPointArn)
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no AVAILABLE continuous recovery point")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// latestRestorable is coffer's LatestRestorableTime of a recovery point.
func latestRestorable(t *testing.T, e *coffertest.Env, vault, arn string) time.Time {
	t.Helper()
	status, body := extension(t, e, http.MethodGet, "/backup-vaults/"+vault+"/recovery-points/"+url.PathEscape(arn), nil)
	var out struct{ LatestRestorableTime float64 }
	if err := json.Unmarshal(body, &out); status != http.StatusOK || err != nil {
		t.Fatalf("DescribeRecoveryPoint %s: %d %s", arn, status, body)
	}
	return time.UnixMilli(int64(out.LatestRestorableTime * 1000))
}

// TestCopyContinuousRecoveryPoint: a copy of a continuous recovery point
// is a snapshot in the destination vault: a periodic recovery point
// holding the bucket's state at the copy's time, which restores (without
// a RestoreTime) to the source's current versions byte for byte, with
// their metadata and tags; a second copy reads nothing again.
func TestCopyContinuousRecoveryPoint(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{Configure: func(c *service.Config) {
		c.JanitorInterval, c.ProtectInterval, c.EventsInterval, c.ReconcileInterval = time.Second, time.Second, time.Second, time.Second
	}})
	mc := e.S3.Client(t)
	createVaultNamed(t, e, "pitr")
	dst, err := e.Client.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("snapshots")})
	if err != nil {
		t.Fatal(err)
	}
	bucket := e.S3.NewBucket(t, true)
	put := func(key string, i int) {
		data := backuptest.Bytes(uint64(i), 1000+i*37)
		if _, err := mc.PutObject(ctx, bucket, key, bytes.NewReader(data), int64(len(data)), backuptest.PutOptions(i)); err != nil {
			t.Fatal(err)
		}
	}
	for i, k := range []string{"a.txt", "b/ü b.bin", "c.del"} {
		put(k, i)
	}
	arn := protectContinuously(t, e, "pitr", bucket)
	put("a.txt", 10)
	tg, _ := tags.NewTags(map[string]string{"state": "retagged"}, true)
	if err := mc.PutObjectTagging(ctx, bucket, "b/ü b.bin", tg, minio.PutObjectTaggingOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := mc.RemoveObject(ctx, bucket, "c.del", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	put("d.new", 11)
	want := backuptest.Histories(backuptest.Snapshot(t, mc, bucket)).Select(1, nil)
	if b := want["b/ü b.bin"]; len(want) != 3 || len(b) != 1 || b[0].Tags["state"] != "retagged" || want["c.del"] != nil {
		t.Fatalf("source state: %+v", want)
	}
	changed := time.Now()
	deadline := time.Now().Add(time.Minute)
	for latestRestorable(t, e, "pitr", arn).Before(changed) {
		if time.Now().After(deadline) {
			t.Fatal("LatestRestorableTime did not pass the changes")
		}
		time.Sleep(100 * time.Millisecond)
	}

	j := waitCopy(t, e.Client, startCopy(t, e.Client, arn, "pitr", aws.ToString(dst.BackupVaultArn), 0))
	if j.State != types.CopyJobStateCompleted {
		t.Fatalf("copy of a continuous recovery point: %s %q", j.State, aws.ToString(j.StatusMessage))
	}
	copied := aws.ToString(j.DestinationRecoveryPointArn)
	rp, err := e.Client.DescribeRecoveryPoint(ctx, &backup.DescribeRecoveryPointInput{BackupVaultName: aws.String("snapshots"), RecoveryPointArn: aws.String(copied)})
	if err != nil || strings.Contains(copied, ":continuous:") || aws.ToString(rp.SourceBackupVaultArn) == "" {
		t.Fatalf("the copy %s: %+v %v", copied, rp, err)
	}
	if row, err := e.Service.Catalog().RecoveryPointByARN(ctx, copied); err != nil || row.Kind == "continuous" {
		t.Fatalf("the copy's catalog row: %+v %v", row, err)
	}
	dest := coffertest.RestoreToNewBucket(t, e.Client, copied)
	for _, d := range backuptest.Diff(want, backuptest.Histories(backuptest.Snapshot(t, mc, dest))) {
		t.Errorf("restore of the copy: %s", d)
	}

	again := startCopy(t, e.Client, arn, "pitr", aws.ToString(dst.BackupVaultArn), 0)
	if j := waitCopy(t, e.Client, again); j.State != types.CopyJobStateCompleted {
		t.Fatalf("second copy: %s %q", j.State, aws.ToString(j.StatusMessage))
	}
	if n := copyBytesRead(t, e, again); n != 0 {
		t.Errorf("the second copy read %d bytes from the source vault, want 0 (nothing changed)", n)
	}
}
