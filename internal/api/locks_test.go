package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/cofferbackup/coffer/internal/clock"
	"github.com/cofferbackup/coffer/internal/coffertest"
)

// lockEnv is a coffer on a fake clock with one bucket to back up.
type lockEnv struct {
	e      *coffertest.Env
	c      *backup.Client
	clk    *clock.Fake
	bucket string
}

func newLockEnv(t *testing.T, eng catalogEngine) *lockEnv {
	clk := clock.NewFake(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	opts := eng.opts(t)
	opts.Clock = clk
	e := coffertest.Start(t, opts)
	bucket := e.S3.NewBucket(t, true)
	coffertest.FillBucket(t, e.S3.Client(t), bucket, "l/", 3, 500)
	return &lockEnv{e: e, c: e.Client, clk: clk, bucket: bucket}
}

// backup runs a backup into vaultName with retention days (0: none) and
// returns its job.
func (l *lockEnv) backup(t *testing.T, vaultName string, days int64) *backup.DescribeBackupJobOutput {
	t.Helper()
	in := &backup.StartBackupJobInput{BackupVaultName: aws.String(vaultName), ResourceArn: aws.String("arn:aws:s3:::" + l.bucket),
		IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x")}
	if days > 0 {
		in.Lifecycle = &types.Lifecycle{DeleteAfterDays: aws.Int64(days)}
	}
	out, err := l.c.StartBackupJob(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return l.e.WaitBackup(t, aws.ToString(out.BackupJobId))
}

func (l *lockEnv) completed(t *testing.T, vaultName string, days int64) string {
	t.Helper()
	j := l.backup(t, vaultName, days)
	if j.State != types.BackupJobStateCompleted {
		t.Fatalf("backup into %s with %d days: %s %q", vaultName, days, j.State, aws.ToString(j.StatusMessage))
	}
	return aws.ToString(j.RecoveryPointArn)
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := apiCode(err); got != code {
		t.Errorf("%s: got %v (code %q), want %s", what, err, got, code)
	}
}

func (l *lockEnv) deleteRP(vaultName, arn string) error {
	_, err := l.c.DeleteRecoveryPoint(ctx, &backup.DeleteRecoveryPointInput{BackupVaultName: aws.String(vaultName), RecoveryPointArn: aws.String(arn)})
	return err
}

func (l *lockEnv) rpExists(t *testing.T, vaultName, arn string) bool {
	t.Helper()
	_, err := l.c.DescribeRecoveryPoint(ctx, &backup.DescribeRecoveryPointInput{BackupVaultName: aws.String(vaultName), RecoveryPointArn: aws.String(arn)})
	if err != nil && apiCode(err) != "ResourceNotFoundException" {
		t.Fatal(err)
	}
	return err == nil
}

func (l *lockEnv) expire(t *testing.T) int {
	t.Helper()
	n, err := l.e.Service.ExpireRecoveryPoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestVaultLock(t *testing.T) {
	for _, eng := range catalogEngines {
		t.Run(eng.name, func(t *testing.T) { testVaultLock(t, eng) })
	}
}

// testVaultLock: every refused path of PutBackupVaultLockConfiguration's
// bounds, jobs outside them, deletes and lifecycle changes in a locked
// vault; governance mode removable, compliance mode immutable after its
// cooling-off period; expiry still runs; the lock and a changed lifecycle
// survive the loss of the catalog.
func testVaultLock(t *testing.T, eng catalogEngine) {
	l := newLockEnv(t, eng)
	c, vaultName := l.c, "locked"
	if _, err := c.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String(vaultName)}); err != nil {
		t.Fatal(err)
	}
	forever := l.completed(t, vaultName, 0) // before the lock, kept forever
	put := func(minDays, maxDays, changeable *int64) error {
		_, err := c.PutBackupVaultLockConfiguration(ctx, &backup.PutBackupVaultLockConfigurationInput{BackupVaultName: aws.String(vaultName),
			MinRetentionDays: minDays, MaxRetentionDays: maxDays, ChangeableForDays: changeable})
		return err
	}
	i := aws.Int64
	for _, tc := range []struct {
		name                 string
		minD, maxD, changeFD *int64
	}{
		{"min above max", i(30), i(7), nil},
		{"min zero", i(0), i(7), nil},
		{"max above 36500", nil, i(36501), nil},
		{"changeable 2 days", i(7), i(30), i(2)},
	} {
		wantCode(t, tc.name, put(tc.minD, tc.maxD, tc.changeFD), "InvalidParameterValueException")
	}
	_, err := c.PutBackupVaultLockConfiguration(ctx, &backup.PutBackupVaultLockConfigurationInput{BackupVaultName: aws.String("nope"), MinRetentionDays: i(1)})
	wantCode(t, "lock of a missing vault", err, "ResourceNotFoundException")

	if err := put(i(7), i(30), nil); err != nil { // governance mode
		t.Fatal(err)
	}
	d, err := c.DescribeBackupVault(ctx, &backup.DescribeBackupVaultInput{BackupVaultName: aws.String(vaultName)})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(d.Locked) || aws.ToInt64(d.MinRetentionDays) != 7 || aws.ToInt64(d.MaxRetentionDays) != 30 || d.LockDate != nil {
		t.Fatalf("described lock: locked %v min %d max %d date %v", aws.ToBool(d.Locked), aws.ToInt64(d.MinRetentionDays), aws.ToInt64(d.MaxRetentionDays), d.LockDate)
	}
	for _, days := range []int64{3, 40, 0} {
		j := l.backup(t, vaultName, days)
		if j.State != types.BackupJobStateFailed || !strings.Contains(aws.ToString(j.StatusMessage), "RetentionDays") {
			t.Errorf("backup with %d days into the locked vault: %s %q, want FAILED naming the lock's bound", days, j.State, aws.ToString(j.StatusMessage))
		}
	}
	ten := l.completed(t, vaultName, 10)

	wantCode(t, "delete before DeleteAt", l.deleteRP(vaultName, ten), "InvalidRequestException")
	wantCode(t, "delete of a recovery point kept forever", l.deleteRP(vaultName, forever), "InvalidRequestException")
	lifecycle := func(arn string, days *int64) (*backup.UpdateRecoveryPointLifecycleOutput, error) {
		in := &backup.UpdateRecoveryPointLifecycleInput{BackupVaultName: aws.String(vaultName), RecoveryPointArn: aws.String(arn)}
		if days != nil {
			in.Lifecycle = &types.Lifecycle{DeleteAfterDays: days}
		}
		return c.UpdateRecoveryPointLifecycle(ctx, in)
	}
	_, err = lifecycle(ten, i(5))
	wantCode(t, "shorten", err, "InvalidRequestException")
	_, err = lifecycle(ten, nil)
	wantCode(t, "remove", err, "InvalidRequestException")
	_, err = lifecycle(ten, i(40))
	wantCode(t, "beyond MaxRetentionDays", err, "InvalidParameterValueException")
	_, err = lifecycle(forever, i(20))
	wantCode(t, "shorten forever", err, "InvalidRequestException")
	out, err := lifecycle(ten, i(20))
	if err != nil {
		t.Fatal(err)
	}
	created := l.clk.Now()
	if out.CalculatedLifecycle == nil || out.CalculatedLifecycle.DeleteAt.Sub(created) < 19*24*time.Hour {
		t.Fatalf("lengthened lifecycle: %+v", out.CalculatedLifecycle)
	}

	// Governance: removable at any time; then compliance with 3 days of
	// cooling off: changeable until the lock date, by nobody afterwards.
	if _, err := c.DeleteBackupVaultLockConfiguration(ctx, &backup.DeleteBackupVaultLockConfigurationInput{BackupVaultName: aws.String(vaultName)}); err != nil {
		t.Fatal(err)
	}
	if err := put(i(7), i(30), i(3)); err != nil {
		t.Fatal(err)
	}
	if err := put(i(5), i(30), i(3)); err != nil {
		t.Fatalf("change during the cooling-off period: %v", err)
	}
	l.clk.Advance(3*24*time.Hour + time.Second)
	wantCode(t, "change after the lock date", put(i(1), i(30), nil), "InvalidRequestException")
	_, err = c.DeleteBackupVaultLockConfiguration(ctx, &backup.DeleteBackupVaultLockConfigurationInput{BackupVaultName: aws.String(vaultName)})
	wantCode(t, "remove after the lock date", err, "InvalidRequestException")

	// The catalog is lost: the lock and the lengthened lifecycle come back
	// from the vault.
	l.e.Stop(t)
	eng.lose(t, l.e)
	l.e.Restart(t)
	c = l.e.Client
	l.c = c
	d, err = c.DescribeBackupVault(ctx, &backup.DescribeBackupVaultInput{BackupVaultName: aws.String(vaultName)})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(d.Locked) || aws.ToInt64(d.MinRetentionDays) != 5 || d.LockDate == nil {
		t.Fatalf("lock after the rebuild: locked %v min %d date %v", aws.ToBool(d.Locked), aws.ToInt64(d.MinRetentionDays), d.LockDate)
	}
	wantCode(t, "remove after the rebuild", func() error {
		_, err := c.DeleteBackupVaultLockConfiguration(ctx, &backup.DeleteBackupVaultLockConfigurationInput{BackupVaultName: aws.String(vaultName)})
		return err
	}(), "InvalidRequestException")
	rp, err := c.DescribeRecoveryPoint(ctx, &backup.DescribeRecoveryPointInput{BackupVaultName: aws.String(vaultName), RecoveryPointArn: aws.String(ten)})
	if err != nil {
		t.Fatal(err)
	}
	if rp.Lifecycle == nil || aws.ToInt64(rp.Lifecycle.DeleteAfterDays) != 20 {
		t.Fatalf("lifecycle after the rebuild: %+v, want 20 days", rp.Lifecycle)
	}

	// Expiry at DeleteAt is what the lock allows.
	l.clk.Advance(17 * 24 * time.Hour)
	if n := l.expire(t); n != 1 || l.rpExists(t, vaultName, ten) || !l.rpExists(t, vaultName, forever) {
		t.Fatalf("expiry in a locked vault deleted %d recovery points; want the 20-day one only", n)
	}
}

func TestLegalHold(t *testing.T) {
	for _, eng := range catalogEngines {
		t.Run(eng.name, func(t *testing.T) { testLegalHold(t, eng) })
	}
}

// testLegalHold: bad holds are refused; a held recovery point is neither
// deleted nor expired until every hold on it is cancelled, then expiry
// catches up; holds survive the loss of the catalog.
func testLegalHold(t *testing.T, eng catalogEngine) {
	l := newLockEnv(t, eng)
	c, vaultName := l.c, "held"
	if _, err := c.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String(vaultName)}); err != nil {
		t.Fatal(err)
	}
	first := l.completed(t, vaultName, 1)
	l.clk.Advance(time.Hour)
	second := l.completed(t, vaultName, 1)

	create := func(in backup.CreateLegalHoldInput) (*backup.CreateLegalHoldOutput, error) {
		return c.CreateLegalHold(ctx, &in)
	}
	vaults := &types.RecoveryPointSelection{VaultNames: []string{vaultName}}
	for _, tc := range []struct {
		name string
		in   backup.CreateLegalHoldInput
		code string
	}{
		// Empty, not absent: the SDK refuses an absent one itself.
		{"no title", backup.CreateLegalHoldInput{Title: aws.String(" "), Description: aws.String("d"), RecoveryPointSelection: vaults}, "MissingParameterValueException"},
		{"no description", backup.CreateLegalHoldInput{Title: aws.String("t"), Description: aws.String(""), RecoveryPointSelection: vaults}, "MissingParameterValueException"},
		{"missing vault", backup.CreateLegalHoldInput{Title: aws.String("t"), Description: aws.String("d"),
			RecoveryPointSelection: &types.RecoveryPointSelection{VaultNames: []string{"nope"}}}, "ResourceNotFoundException"},
		{"from after to", backup.CreateLegalHoldInput{Title: aws.String("t"), Description: aws.String("d"),
			RecoveryPointSelection: &types.RecoveryPointSelection{DateRange: &types.DateRange{
				FromDate: aws.Time(l.clk.Now()), ToDate: aws.Time(l.clk.Now().Add(-time.Hour))}}}, "InvalidParameterValueException"},
	} {
		_, err := create(tc.in)
		wantCode(t, tc.name, err, tc.code)
	}
	all, err := create(backup.CreateLegalHoldInput{Title: aws.String("case 17"), Description: aws.String("litigation"),
		RecoveryPointSelection: vaults, IdempotencyToken: aws.String("tok-1")})
	if err != nil {
		t.Fatal(err)
	}
	if all.Status != types.LegalHoldStatusActive || !strings.Contains(aws.ToString(all.LegalHoldArn), ":legal-hold:") {
		t.Fatalf("created hold: %s %s", all.Status, aws.ToString(all.LegalHoldArn))
	}
	again, err := create(backup.CreateLegalHoldInput{Title: aws.String("case 17"), Description: aws.String("litigation"),
		RecoveryPointSelection: vaults, IdempotencyToken: aws.String("tok-1")})
	if err != nil || aws.ToString(again.LegalHoldId) != aws.ToString(all.LegalHoldId) {
		t.Fatalf("same idempotency token: %v, hold %s", err, aws.ToString(again.LegalHoldId))
	}
	// The second hold holds the older recovery point only.
	older, err := create(backup.CreateLegalHoldInput{Title: aws.String("case 18"), Description: aws.String("audit"),
		RecoveryPointSelection: &types.RecoveryPointSelection{ResourceIdentifiers: []string{"arn:aws:s3:::" + l.bucket},
			DateRange: &types.DateRange{FromDate: aws.Time(l.clk.Now().Add(-2 * time.Hour)), ToDate: aws.Time(l.clk.Now().Add(-30 * time.Minute))}}})
	if err != nil {
		t.Fatal(err)
	}
	held := func(id *string) []string {
		t.Helper()
		out, err := c.ListRecoveryPointsByLegalHold(ctx, &backup.ListRecoveryPointsByLegalHoldInput{LegalHoldId: id})
		if err != nil {
			t.Fatal(err)
		}
		var arns []string
		for _, rp := range out.RecoveryPoints {
			arns = append(arns, aws.ToString(rp.RecoveryPointArn))
		}
		return arns
	}
	if got := held(all.LegalHoldId); len(got) != 2 {
		t.Fatalf("hold on the vault holds %v, want both recovery points", got)
	}
	if got := held(older.LegalHoldId); len(got) != 1 || got[0] != first {
		t.Fatalf("hold on the date range holds %v, want %s", got, first)
	}
	wantCode(t, "delete of a held recovery point", l.deleteRP(vaultName, second), "InvalidRequestException")
	l.clk.Advance(48 * time.Hour)
	if n := l.expire(t); n != 0 {
		t.Fatalf("expiry deleted %d held recovery points", n)
	}

	// The catalog is lost: both holds come back from the vault.
	l.e.Stop(t)
	eng.lose(t, l.e)
	l.e.Restart(t)
	c = l.e.Client
	l.c = c
	got, err := c.GetLegalHold(ctx, &backup.GetLegalHoldInput{LegalHoldId: all.LegalHoldId})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != types.LegalHoldStatusActive || aws.ToString(got.Title) != "case 17" || len(held(all.LegalHoldId)) != 2 {
		t.Fatalf("hold after the rebuild: %s %q", got.Status, aws.ToString(got.Title))
	}
	list, err := c.ListLegalHolds(ctx, &backup.ListLegalHoldsInput{})
	if err != nil || len(list.LegalHolds) != 2 {
		t.Fatalf("ListLegalHolds after the rebuild: %v, %d holds", err, len(list.LegalHolds))
	}
	if n := l.expire(t); n != 0 {
		t.Fatalf("expiry after the rebuild deleted %d held recovery points", n)
	}

	_, err = c.CancelLegalHold(ctx, &backup.CancelLegalHoldInput{LegalHoldId: all.LegalHoldId, CancelDescription: aws.String("")})
	wantCode(t, "cancel without a description", err, "MissingParameterValueException")
	if _, err := c.CancelLegalHold(ctx, &backup.CancelLegalHoldInput{LegalHoldId: all.LegalHoldId, CancelDescription: aws.String("settled"),
		RetainRecordInDays: aws.Int64(30)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.CancelLegalHold(ctx, &backup.CancelLegalHoldInput{LegalHoldId: all.LegalHoldId, CancelDescription: aws.String("again")})
	wantCode(t, "cancel twice", err, "InvalidResourceStateException")
	_, err = c.GetLegalHold(ctx, &backup.GetLegalHoldInput{LegalHoldId: aws.String("nope")})
	wantCode(t, "missing hold", err, "ResourceNotFoundException")

	if n := l.expire(t); n != 1 || l.rpExists(t, vaultName, second) || !l.rpExists(t, vaultName, first) {
		t.Fatalf("expiry after the first cancel deleted %d; want the recovery point no hold holds", n)
	}
	wantCode(t, "delete while the second hold holds it", l.deleteRP(vaultName, first), "InvalidRequestException")
	if _, err := c.CancelLegalHold(ctx, &backup.CancelLegalHoldInput{LegalHoldId: older.LegalHoldId, CancelDescription: aws.String("done")}); err != nil {
		t.Fatal(err)
	}
	if n := l.expire(t); n != 1 || l.rpExists(t, vaultName, first) {
		t.Fatalf("expiry after the last cancel deleted %d; want the last recovery point", n)
	}
}

func TestAirGappedVault(t *testing.T) {
	l := newLockEnv(t, catalogEngines[0])
	c := l.c
	create := func(name string, minD, maxD *int64) error {
		_, err := c.CreateLogicallyAirGappedBackupVault(ctx, &backup.CreateLogicallyAirGappedBackupVaultInput{BackupVaultName: aws.String(name),
			MinRetentionDays: minD, MaxRetentionDays: maxD})
		return err
	}
	wantCode(t, "min below 7", create("ag", aws.Int64(6), aws.Int64(30)), "InvalidParameterValueException")
	wantCode(t, "min above max", create("ag", aws.Int64(40), aws.Int64(30)), "InvalidParameterValueException")
	if err := create("ag", aws.Int64(7), aws.Int64(30)); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeBackupVault(ctx, &backup.DescribeBackupVaultInput{BackupVaultName: aws.String("ag")})
	if err != nil {
		t.Fatal(err)
	}
	if d.VaultType != types.VaultTypeLogicallyAirGappedBackupVault || !aws.ToBool(d.Locked) || d.LockDate == nil {
		t.Fatalf("air-gapped vault: type %s locked %v date %v", d.VaultType, aws.ToBool(d.Locked), d.LockDate)
	}
	_, err = c.DeleteBackupVaultLockConfiguration(ctx, &backup.DeleteBackupVaultLockConfigurationInput{BackupVaultName: aws.String("ag")})
	wantCode(t, "unlock an air-gapped vault", err, "InvalidRequestException")
	rp := l.completed(t, "ag", 7)
	wantCode(t, "delete in an air-gapped vault", l.deleteRP("ag", rp), "InvalidRequestException")
	list, err := c.ListBackupVaults(ctx, &backup.ListBackupVaultsInput{ByVaultType: types.VaultTypeLogicallyAirGappedBackupVault})
	if err != nil || len(list.BackupVaultList) != 1 {
		t.Fatalf("list by vault type: %v, %d vaults", err, len(list.BackupVaultList))
	}
}
