package jobcmd

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/cofferbackup/coffer/internal/cli"
)

// checkUsageErr checks err against a table case: when wantUsage, err must
// be a usage error, else nil. It returns whether the case goes on to check
// the result.
func checkUsageErr(t *testing.T, err error, wantUsage bool) bool {
	t.Helper()
	if wantUsage {
		if !errors.Is(err, cli.ErrUsage) {
			t.Fatalf("err = %v, want a usage error", err)
		}
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

func TestRestoreMetadata(t *testing.T) {
	rt := time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 7200))
	cases := []struct {
		name    string
		flags   restoreFlags
		want    map[string]string
		wantErr bool
	}{
		{name: "minimal", flags: restoreFlags{destBucket: "dst"},
			want: map[string]string{"DestinationBucketName": "dst", "NewBucket": "false", "Overwrite": "false", "RestoreACLs": "false"}},
		{name: "everything", flags: restoreFlags{destBucket: "dst", newBucket: true, overwrite: true, restoreACLs: true, versions: "3",
			items: cli.StringList{"s3://src/a/", `s3://src/b "q"`}, restoreTime: cli.TimeFlag{Time: &rt}},
			want: map[string]string{"DestinationBucketName": "dst", "NewBucket": "true", "Overwrite": "true", "RestoreACLs": "true",
				"RestoreLatestVersionsUpTo": "3", "ItemsToRestore": `["s3://src/a/","s3://src/b \"q\""]`, "RestoreTime": "2024-01-02T01:04:05Z"}},
		{name: "all versions", flags: restoreFlags{destBucket: "d", versions: "ALL"},
			want: map[string]string{"DestinationBucketName": "d", "NewBucket": "false", "Overwrite": "false", "RestoreACLs": "false", "RestoreLatestVersionsUpTo": "all"}},
		{name: "rollback", flags: restoreFlags{rollback: true},
			want: map[string]string{"NewBucket": "false", "Overwrite": "false", "RestoreACLs": "false", "RestoreMode": "rollback"}},
		{name: "rollback naming the bucket", flags: restoreFlags{rollback: true, destBucket: "src"},
			want: map[string]string{"DestinationBucketName": "src", "NewBucket": "false", "Overwrite": "false", "RestoreACLs": "false", "RestoreMode": "rollback"}},
		{name: "no dest", flags: restoreFlags{}, wantErr: true},
		{name: "zero versions", flags: restoreFlags{destBucket: "d", versions: "0"}, wantErr: true},
		{name: "bad versions", flags: restoreFlags{destBucket: "d", versions: "some"}, wantErr: true},
		{name: "item without scheme", flags: restoreFlags{destBucket: "d", items: cli.StringList{"src/a"}}, wantErr: true},
		{name: "item without bucket", flags: restoreFlags{destBucket: "d", items: cli.StringList{"s3:///a"}}, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.flags.metadata()
			if !checkUsageErr(t, err, tc.wantErr) {
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %v\nwant %v", got, tc.want)
			}
			if items, ok := got["ItemsToRestore"]; ok {
				var list []string
				if err := json.Unmarshal([]byte(items), &list); err != nil || !reflect.DeepEqual(list, []string(tc.flags.items)) {
					t.Fatalf("ItemsToRestore %s does not decode to %q: %v", items, tc.flags.items, err)
				}
			}
		})
	}
}

func TestRestoreInput(t *testing.T) {
	f := restoreFlags{recoveryPoint: "arn:rp", destBucket: "d", token: "tok"}
	in, err := f.input()
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(in.ResourceType) != "S3" || aws.ToString(in.RecoveryPointArn) != "arn:rp" || aws.ToString(in.IdempotencyToken) != "tok" || in.IamRoleArn != nil {
		t.Fatalf("input = %+v", in)
	}
	if _, err := (&restoreFlags{destBucket: "d"}).input(); !errors.Is(err, cli.ErrUsage) {
		t.Fatalf("missing recovery point: err = %v", err)
	}
}

func TestBackupStartInput(t *testing.T) {
	cases := []struct {
		name    string
		flags   backupStartFlags
		want    *backup.StartBackupJobInput
		wantErr bool
	}{
		{name: "bucket", flags: backupStartFlags{vault: "v", bucket: "b", iamRole: "role"},
			want: &backup.StartBackupJobInput{BackupVaultName: aws.String("v"), ResourceArn: aws.String("arn:aws:s3:::b"), IamRoleArn: aws.String("role")}},
		{name: "all options", flags: backupStartFlags{vault: "v", resourceARN: "arn:aws:s3:::x", iamRole: "role", token: "t",
			deleteAfterDays: 30, noACLs: true, noTags: true, tags: cli.TagFlag{"a": "b"}},
			want: &backup.StartBackupJobInput{BackupVaultName: aws.String("v"), ResourceArn: aws.String("arn:aws:s3:::x"), IamRoleArn: aws.String("role"),
				IdempotencyToken: aws.String("t"), Lifecycle: &types.Lifecycle{DeleteAfterDays: aws.Int64(30)},
				BackupOptions:     map[string]string{"BackupACLs": "disabled", "BackupObjectTags": "disabled"},
				RecoveryPointTags: map[string]string{"a": "b"}}},
		{name: "only acls", flags: backupStartFlags{vault: "v", bucket: "b", iamRole: "role", noACLs: true},
			want: &backup.StartBackupJobInput{BackupVaultName: aws.String("v"), ResourceArn: aws.String("arn:aws:s3:::b"), IamRoleArn: aws.String("role"),
				BackupOptions: map[string]string{"BackupACLs": "disabled"}}},
		{name: "read tags every 7", flags: backupStartFlags{vault: "v", bucket: "b", iamRole: "role", readTagsEvery: 7},
			want: &backup.StartBackupJobInput{BackupVaultName: aws.String("v"), ResourceArn: aws.String("arn:aws:s3:::b"), IamRoleArn: aws.String("role"),
				BackupOptions: map[string]string{"ReadTagsEvery": "7"}}},
		{name: "negative read tags every", flags: backupStartFlags{vault: "v", bucket: "b", readTagsEvery: -1}, wantErr: true},
		{name: "fixed chunks", flags: backupStartFlags{vault: "v", bucket: "b", iamRole: "role", chunking: "fixed"},
			want: &backup.StartBackupJobInput{BackupVaultName: aws.String("v"), ResourceArn: aws.String("arn:aws:s3:::b"), IamRoleArn: aws.String("role"),
				BackupOptions: map[string]string{"Chunking": "fixed"}}},
		{name: "bad chunking", flags: backupStartFlags{vault: "v", bucket: "b", chunking: "4M"}, wantErr: true},
		{name: "no vault", flags: backupStartFlags{bucket: "b"}, wantErr: true},
		{name: "no resource", flags: backupStartFlags{vault: "v"}, wantErr: true},
		{name: "both resources", flags: backupStartFlags{vault: "v", bucket: "b", resourceARN: "arn:aws:s3:::b"}, wantErr: true},
		{name: "negative days", flags: backupStartFlags{vault: "v", bucket: "b", deleteAfterDays: -1}, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.flags.input()
			if !checkUsageErr(t, err, tc.wantErr) {
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
