package coffertest_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/jackc/pgx/v5"

	"github.com/cofferbackup/coffer/internal/coffertest"
	"github.com/cofferbackup/coffer/internal/pgtest"
	"github.com/cofferbackup/coffer/internal/testserver"
)

// pgExec runs statements as the test's PostgreSQL superuser.
func pgExec(t *testing.T, stmts ...string) {
	t.Helper()
	conn, err := pgx.Connect(ctx, pgtest.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// TestCatalogUnwritable: coffer runs on PostgreSQL as a role whose write
// grants are taken away (SQLite's files cannot be made unwritable for a
// test running as root, which ignores file modes, and a read-only bind
// mount is refused while SQLite holds the file open for writing: a role
// without grants is the real thing). Requests that must write are refused
// with an error, reads still answer, and once the grants are back the
// same server backs up again and every recovery point restores.
func TestCatalogUnwritable(t *testing.T) {
	pgtest.Check(t)
	role := fmt.Sprintf("coffer_ro_%d", time.Now().UnixNano()%1e9)
	t.Cleanup(func() { pgExec(t, "DROP OWNED BY "+role, "DROP ROLE "+role) })
	db := coffertest.Database(t, "postgres")
	u, _ := url.Parse(db)
	schema := pgx.Identifier{u.Query().Get("search_path")}.Sanitize()
	srv := testserver.Shared(t, testserver.MinIO)
	mc := srv.Client(t)
	bucket := srv.NewBucket(t, true)
	want := coffertest.FillBucket(t, mc, bucket, "c/", 10, 10<<10)

	// Tables created by the owner, then used by the limited role.
	first := coffertest.Start(t, coffertest.Options{S3: srv, Database: db})
	first.Stop(t)
	// (CREATE on the database and schema: coffer's CREATE SCHEMA and TABLE IF NOT EXISTS ask
	// for it even when the schema exists.)
	pgExec(t, "CREATE ROLE "+role+" LOGIN", "GRANT CREATE ON DATABASE "+pgx.Identifier{strings.TrimPrefix(u.Path, "/")}.Sanitize()+" TO "+role,
		"GRANT USAGE, CREATE ON SCHEMA "+schema+" TO "+role,
		"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "+schema+" TO "+role,
		"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA "+schema+" TO "+role)
	u.User = url.User(role)
	e := coffertest.Start(t, coffertest.Options{S3: srv, DataDir: first.DataDir, Database: u.String()})
	if _, err := e.Client.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("ro")}); err != nil {
		t.Fatal(err)
	}
	backupOf := func() (*backup.DescribeBackupJobOutput, error) {
		bj, err := e.Client.StartBackupJob(ctx, &backup.StartBackupJobInput{BackupVaultName: aws.String("ro"),
			ResourceArn: aws.String("arn:aws:s3:::" + bucket), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x")})
		if err != nil {
			return nil, err
		}
		return waitBackupFor(t, e.Client, aws.ToString(bj.BackupJobId), 60*time.Second), nil
	}
	rp1, err := backupOf()
	if err != nil || rp1.State != types.BackupJobStateCompleted {
		t.Fatalf("backup with write grants: %v %+v", err, rp1)
	}

	pgExec(t, "REVOKE INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "+schema+" FROM "+role)
	start := time.Now()
	_, err = backupOf()
	t.Logf("StartBackupJob on an unwritable catalog: %v (in %v)", err, time.Since(start).Round(time.Millisecond))
	if err == nil || !strings.Contains(err.Error(), "ServiceUnavailable") || time.Since(start) > 30*time.Second {
		t.Errorf("StartBackupJob on an unwritable catalog: %v after %v, want a prompt refusal", err, time.Since(start))
	}
	if _, err := e.Client.DescribeRecoveryPoint(ctx, &backup.DescribeRecoveryPointInput{BackupVaultName: aws.String("ro"),
		RecoveryPointArn: rp1.RecoveryPointArn}); err != nil {
		t.Errorf("reads on an unwritable catalog: %v", err)
	}

	pgExec(t, "GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "+schema+" TO "+role)
	rp2, err := backupOf()
	if err != nil || rp2.State != types.BackupJobStateCompleted {
		t.Fatalf("backup once the grants are back: %v %+v", err, rp2)
	}

	// Grants taken away while a backup runs, and given back 5 s later.
	big := srv.NewBucket(t, true)
	wantBig := coffertest.FillBucket(t, mc, big, "big/", 400, 32<<10)
	bj, err := e.Client.StartBackupJob(ctx, &backup.StartBackupJobInput{BackupVaultName: aws.String("ro"),
		ResourceArn: aws.String("arn:aws:s3:::" + big), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x")})
	if err != nil {
		t.Fatal(err)
	}
	for {
		d, err := e.Client.DescribeBackupJob(ctx, &backup.DescribeBackupJobInput{BackupJobId: bj.BackupJobId})
		if err != nil {
			t.Fatal(err)
		}
		if d.State == types.BackupJobStateRunning {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	pgExec(t, "REVOKE INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "+schema+" FROM "+role)
	time.Sleep(5 * time.Second)
	pgExec(t, "GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "+schema+" TO "+role)
	mid := waitBackupFor(t, e.Client, aws.ToString(bj.BackupJobId), 90*time.Second)
	t.Logf("backup that lost its write grants while running: %s %q", mid.State, aws.ToString(mid.StatusMessage))
	if mid.State == types.BackupJobStateCompleted {
		coffertest.CheckBucket(t, mc, coffertest.RestoreToNewBucket(t, e.Client, aws.ToString(mid.RecoveryPointArn)), wantBig)
	}
	if err != nil || rp2.State != types.BackupJobStateCompleted {
		t.Fatalf("backup once the grants are back: %v %+v", err, rp2)
	}
	for _, rp := range []*string{rp1.RecoveryPointArn, rp2.RecoveryPointArn} {
		coffertest.CheckBucket(t, mc, coffertest.RestoreToNewBucket(t, e.Client, aws.ToString(rp)), want)
	}
}
