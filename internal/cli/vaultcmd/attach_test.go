package vaultcmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/cofferbackup/coffer/internal/cli/clitest"
	"github.com/cofferbackup/coffer/internal/coffertest"
)

// TestVaultAttach makes a vault on one server and attaches it, with
// `coffer vault attach`, to others: refused with another master key or
// when the name is taken, then attached under a new name with its
// recovery points, their current tags and restorable data.
func TestVaultAttach(t *testing.T) {
	ctx := context.Background()
	a := coffertest.Start(t, coffertest.Options{})
	c, mc := a.Client, a.S3.Client(t)
	if _, err := c.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("shared"), CreatorRequestId: aws.String("req-1")}); err != nil {
		t.Fatal(err)
	}
	bucket := a.S3.NewBucket(t, true)
	want := coffertest.FillBucket(t, mc, bucket, "x/", 8, 5000)
	job, err := c.StartBackupJob(ctx, &backup.StartBackupJobInput{BackupVaultName: aws.String("shared"),
		ResourceArn: aws.String("arn:aws:s3:::" + bucket), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x"),
		RecoveryPointTags: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	if j := a.WaitBackup(t, aws.ToString(job.BackupJobId)); j.State != types.BackupJobStateCompleted {
		t.Fatalf("backup: %s %q", j.State, aws.ToString(j.StatusMessage))
	}
	rpARN := aws.ToString(job.RecoveryPointArn)
	if _, err := c.TagResource(ctx, &backup.TagResourceInput{ResourceArn: job.RecoveryPointArn, Tags: map[string]string{"k": "changed"}}); err != nil {
		t.Fatal(err)
	}
	before, err := c.DescribeBackupVault(ctx, &backup.DescribeBackupVaultInput{BackupVaultName: aws.String("shared")})
	if err != nil {
		t.Fatal(err)
	}
	ids, _ := filepath.Glob(filepath.Join(a.DataDir, "vaults", "v-*"))
	if len(ids) != 1 {
		t.Fatalf("vault directories of the first server: %v", ids)
	}
	src := ids[0]
	a.Stop(t)

	// Another master key: refused, and nothing is moved.
	other := clitest.NewEnvFor(t, coffertest.Start(t, coffertest.Options{S3: a.S3}))
	_, errOut := other.Fail("vault", "attach", src)
	t.Logf("another key: %s", errOut)
	if !strings.Contains(errOut, "InvalidParameterValueException") ||
		!strings.Contains(errOut, "master key") {
		t.Fatalf("attach with another master key: %s", errOut)
	}
	if _, err := os.Stat(filepath.Join(src, "repo")); err != nil {
		t.Fatalf("refused attach touched the vault: %v", err)
	}
	if _, errOut := other.Fail("vault", "attach", t.TempDir()); !strings.Contains(errOut, "InvalidParameterValueException") {
		t.Fatalf("attach of a directory that is no vault: %s", errOut)
	}

	// Same master key: a taken name is refused, --name attaches.
	dir := t.TempDir()
	key, err := os.ReadFile(filepath.Join(a.DataDir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "master.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	b := coffertest.Start(t, coffertest.Options{S3: a.S3, DataDir: dir})
	cli := clitest.NewEnvFor(t, b)
	cli.Run("vault", "create", "shared")
	_, errOut = cli.Fail("vault", "attach", src)
	t.Logf("name taken: %s", errOut)
	if !strings.Contains(errOut, "AlreadyExistsException") || !strings.Contains(errOut, "--name") {
		t.Fatalf("attach under a taken name: %s", errOut)
	}
	var out attachOutput
	cli.RunJSON(&out, "vault", "attach", src, "--name", "imported")
	if out.BackupVaultName != "imported" || out.RecoveryPointsAttached != 1 || out.NumberOfRecoveryPoints != 1 || !out.Moved ||
		!strings.HasSuffix(out.BackupVaultArn, ":backup-vault:imported") {
		t.Fatalf("attach output %+v", out)
	}
	if _, errOut := cli.Fail("vault", "attach", filepath.Join(dir, "vaults", filepath.Base(src)), "--name", "again"); !strings.Contains(errOut, "AlreadyExistsException") {
		t.Fatalf("attach of an id already present: %s", errOut)
	}
	checkAttached(t, b, before, rpARN, want)
	// The new name is recorded in the vault: a restart does not bring back the old one.
	b.Restart(t)
	checkAttached(t, b, before, rpARN, want)
}

// checkAttached checks what server e says of the vault attached as
// "imported" and restores its recovery point.
func checkAttached(t *testing.T, e *coffertest.Env, before *backup.DescribeBackupVaultOutput, rpARN string, want map[string][]byte) {
	t.Helper()
	ctx := context.Background()
	d, err := e.Client.DescribeBackupVault(ctx, &backup.DescribeBackupVaultInput{BackupVaultName: aws.String("imported")})
	if err != nil || d.NumberOfRecoveryPoints != 1 || !aws.ToTime(d.CreationDate).Equal(aws.ToTime(before.CreationDate)) ||
		aws.ToString(d.CreatorRequestId) != "req-1" {
		t.Fatalf("attached vault: %+v, %v (before: %+v)", d, err, before)
	}
	rp, err := e.Client.DescribeRecoveryPoint(ctx, &backup.DescribeRecoveryPointInput{BackupVaultName: aws.String("imported"), RecoveryPointArn: aws.String(rpARN)})
	if err != nil || rp.Status != types.RecoveryPointStatusCompleted || aws.ToString(rp.BackupVaultName) != "imported" {
		t.Fatalf("attached recovery point: %+v, %v", rp, err)
	}
	tags, err := e.Client.ListTags(ctx, &backup.ListTagsInput{ResourceArn: aws.String(rpARN)})
	if err != nil || len(tags.Tags) != 1 || tags.Tags["k"] != "changed" {
		t.Fatalf("attached recovery point tags: %v, %v", tags, err)
	}
	vs, err := e.Client.ListBackupVaults(ctx, &backup.ListBackupVaultsInput{})
	if err != nil || len(vs.BackupVaultList) != 2 {
		t.Fatalf("vaults: %+v, %v", vs, err)
	}
	coffertest.CheckBucket(t, e.S3.Client(t), coffertest.RestoreToNewBucket(t, e.Client, rpARN), want)
}

// TestVaultNameTakenAtStart puts a vault whose name the catalog already
// gives to another vault into the data directory: the start skips it and
// serves the rest, and attach --name registers it where it is.
func TestVaultNameTakenAtStart(t *testing.T) {
	ctx := context.Background()
	a := coffertest.Start(t, coffertest.Options{})
	for _, name := range []string{"same", "other"} {
		if _, err := a.Client.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	key, err := os.ReadFile(filepath.Join(a.DataDir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "master.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	b := coffertest.Start(t, coffertest.Options{S3: a.S3, DataDir: dir})
	if _, err := b.Client.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("same")}); err != nil {
		t.Fatal(err)
	}
	b.Stop(t)
	moved, _ := filepath.Glob(filepath.Join(dir, "vaults", "v-*"))
	if len(moved) != 1 {
		t.Fatalf("vault directories of the second server: %v", moved)
	}
	a.Stop(t)
	inA := filepath.Join(a.DataDir, "vaults", filepath.Base(moved[0]))
	if err := os.Rename(moved[0], inA); err != nil {
		t.Fatal(err)
	}
	a.Restart(t)
	vs, err := a.Client.ListBackupVaults(ctx, &backup.ListBackupVaultsInput{})
	if err != nil || len(vs.BackupVaultList) != 2 {
		t.Fatalf("vaults after a start with a taken name: %+v, %v", vs, err)
	}
	cli := clitest.NewEnvFor(t, a)
	var out attachOutput
	cli.RunJSON(&out, "vault", "attach", inA, "--name", "same-2")
	if out.BackupVaultName != "same-2" || out.Moved {
		t.Fatalf("attach in place: %+v", out)
	}
	if _, err := os.Stat(filepath.Join(inA, "repo")); err != nil {
		t.Fatalf("vault attached in place is gone: %v", err)
	}
	a.Restart(t)
	if vs, err = a.Client.ListBackupVaults(ctx, &backup.ListBackupVaultsInput{}); err != nil || len(vs.BackupVaultList) != 3 {
		t.Fatalf("vaults after attach in place and a restart: %+v, %v", vs, err)
	}
}
