package api_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/kopia/kopia/repo"

	"github.com/cofferbackup/coffer/internal/coffertest"
	"github.com/cofferbackup/coffer/internal/pgtest"
)

// catalogEngine is one catalog database a coffer can run on: how to
// start on it and how to lose the catalog while coffer is stopped.
type catalogEngine struct {
	name string
	opts func(t *testing.T) coffertest.Options
	lose func(t *testing.T, e *coffertest.Env)
}

// catalogEngines lists the engines the rebuild test runs on.
var catalogEngines = []catalogEngine{
	{name: "sqlite", opts: func(*testing.T) coffertest.Options { return coffertest.Options{} }, lose: loseSQLiteCatalog},
	{name: "postgres", opts: func(t *testing.T) coffertest.Options {
		return coffertest.Options{Database: coffertest.Database(t, "postgres")}
	}, lose: losePostgresCatalog},
}

// losePostgresCatalog drops the catalog's PostgreSQL schema with every
// table in it (coffer's and River's): the restart finds an empty database.
func losePostgresCatalog(t *testing.T, e *coffertest.Env) {
	t.Helper()
	u, err := url.Parse(e.Database())
	if err != nil {
		t.Fatal(err)
	}
	schema := u.Query().Get("search_path")
	if schema == "" {
		t.Fatal("the test database has no schema of its own to drop")
	}
	pgtest.DropSchema(t, schema)
}

// loseSQLiteCatalog deletes the SQLite catalog with its WAL and shared
// memory files.
func loseSQLiteCatalog(t *testing.T, e *coffertest.Env) {
	t.Helper()
	removed := 0
	for _, f := range []string{"catalog.db", "catalog.db-wal", "catalog.db-shm"} {
		err := os.Remove(filepath.Join(e.DataDir, f))
		if err == nil {
			removed++
		} else if !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
	}
	if removed == 0 {
		t.Fatal("no catalog file to delete: the catalog is not where the test expects it")
	}
}

func TestCatalogRebuiltFromVaults(t *testing.T) {
	for _, eng := range catalogEngines {
		t.Run(eng.name, func(t *testing.T) { testCatalogRebuilt(t, eng) })
	}
}

func testCatalogRebuilt(t *testing.T, eng catalogEngine) {
	e := coffertest.Start(t, eng.opts(t))
	c, mc := e.Client, e.S3.Client(t)
	for _, v := range []backup.CreateBackupVaultInput{
		{BackupVaultName: aws.String("alpha"), CreatorRequestId: aws.String("req-alpha"),
			EncryptionKeyArn: aws.String("arn:aws:kms:us-east-1:000000000000:key/k1")},
		{BackupVaultName: aws.String("beta")},
	} {
		if _, err := c.CreateBackupVault(ctx, &v); err != nil {
			t.Fatal(err)
		}
	}
	b1, b2 := e.S3.NewBucket(t, true), e.S3.NewBucket(t, false)
	coffertest.FillBucket(t, mc, b1, "a/", 6, 3000)
	backupOf := func(vaultName, bucket string, days int64, tags map[string]string) string {
		in := &backup.StartBackupJobInput{BackupVaultName: aws.String(vaultName), ResourceArn: aws.String("arn:aws:s3:::" + bucket),
			IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x"), RecoveryPointTags: tags}
		if days > 0 {
			in.Lifecycle = &types.Lifecycle{DeleteAfterDays: aws.Int64(days)}
		}
		out, err := c.StartBackupJob(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if j := e.WaitBackup(t, aws.ToString(out.BackupJobId)); j.State != types.BackupJobStateCompleted {
			t.Fatalf("backup of %s: %s %q", bucket, j.State, aws.ToString(j.StatusMessage))
		}
		return aws.ToString(out.RecoveryPointArn)
	}
	deleted := backupOf("alpha", b1, 0, nil)
	want := coffertest.FillBucket(t, mc, b1, "b/", 5, 2000) // b1 now holds a/ and b/
	for k, v := range coffertest.FillBucket(t, mc, b1, "a/", 6, 3000) {
		want[k] = v
	}
	kept := backupOf("alpha", b1, 30, map[string]string{"team": "storage", "tier": "gold"})
	coffertest.FillBucket(t, mc, b2, "c/", 4, 1000)
	backupOf("beta", b2, 7, map[string]string{"env": "test"})
	backupOf("beta", b2, 0, nil)
	if _, err := c.DeleteRecoveryPoint(ctx, &backup.DeleteRecoveryPointInput{BackupVaultName: aws.String("alpha"), RecoveryPointArn: aws.String(deleted)}); err != nil {
		t.Fatal(err)
	}
	// Tags changed after the backup: one replaced, one added, one removed.
	if _, err := c.TagResource(ctx, &backup.TagResourceInput{ResourceArn: aws.String(kept), Tags: map[string]string{"team": "db", "added": "later"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &backup.UntagResourceInput{ResourceArn: aws.String(kept), TagKeyList: []string{"tier"}}); err != nil {
		t.Fatal(err)
	}
	before := catalogSnapshot(t, c)
	if n := len(before.RecoveryPoints); n != 3 {
		t.Fatalf("%d recovery points before the rebuild, want 3", n)
	}
	if got := before.Tags[kept]; len(got) != 2 || got["team"] != "db" || got["added"] != "later" {
		t.Fatalf("tags before the rebuild: %v", got)
	}

	e.Stop(t)
	eng.lose(t, e)
	started := time.Now()
	e.Restart(t)
	t.Logf("start with a lost catalog (2 vaults, 3 recovery points rebuilt): %v", time.Since(started))

	after := catalogSnapshot(t, c)
	compareJSON(t, "vaults", before.Vaults, after.Vaults)
	compareJSON(t, "recovery point listings", before.Listings, after.Listings)
	compareJSON(t, "recovery points", before.RecoveryPoints, after.RecoveryPoints)
	compareJSON(t, "recovery point tags", before.Tags, after.Tags)
	if _, err := c.DescribeRecoveryPoint(ctx, &backup.DescribeRecoveryPointInput{BackupVaultName: aws.String("alpha"),
		RecoveryPointArn: aws.String(deleted)}); apiCode(err) != "ResourceNotFoundException" {
		t.Fatalf("deleted recovery point after the rebuild: %v", err)
	}
	coffertest.CheckBucket(t, mc, coffertest.RestoreToNewBucket(t, c, kept), want)
	// A second restart finds everything catalogued: nothing registered twice.
	e.Restart(t)
	compareJSON(t, "vaults after a second restart", before.Vaults, catalogSnapshot(t, c).Vaults)
}

// snapshot is everything the API says about vaults and recovery points.
type snapshot struct {
	Vaults         []types.BackupVaultListMember
	Listings       map[string][]types.RecoveryPointByBackupVault  // by vault name
	RecoveryPoints map[string]*backup.DescribeRecoveryPointOutput // by ARN
	Tags           map[string]map[string]string                   // by recovery point ARN
}

func catalogSnapshot(t *testing.T, c *backup.Client) snapshot {
	t.Helper()
	s := snapshot{Listings: map[string][]types.RecoveryPointByBackupVault{},
		RecoveryPoints: map[string]*backup.DescribeRecoveryPointOutput{}, Tags: map[string]map[string]string{}}
	vs, err := c.ListBackupVaults(ctx, &backup.ListBackupVaultsInput{})
	if err != nil {
		t.Fatal(err)
	}
	s.Vaults = vs.BackupVaultList
	for _, v := range vs.BackupVaultList {
		name := aws.ToString(v.BackupVaultName)
		rps, err := c.ListRecoveryPointsByBackupVault(ctx, &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: v.BackupVaultName})
		if err != nil {
			t.Fatal(err)
		}
		s.Listings[name] = rps.RecoveryPoints
		for _, rp := range rps.RecoveryPoints {
			arn := aws.ToString(rp.RecoveryPointArn)
			d, err := c.DescribeRecoveryPoint(ctx, &backup.DescribeRecoveryPointInput{BackupVaultName: v.BackupVaultName, RecoveryPointArn: rp.RecoveryPointArn})
			if err != nil {
				t.Fatal(err)
			}
			s.RecoveryPoints[arn] = d
			tags, err := c.ListTags(ctx, &backup.ListTagsInput{ResourceArn: rp.RecoveryPointArn})
			if err != nil {
				t.Fatal(err)
			}
			s.Tags[arn] = tags.Tags
		}
	}
	return s
}

// compareJSON compares two API answers field by field, as JSON (the SDK's
// response metadata has no exported fields, so it drops out).
func compareJSON(t *testing.T, what string, want, got any) {
	t.Helper()
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if string(w) != string(g) {
		t.Errorf("%s differ after the rebuild:\nbefore %s\nafter  %s", what, w, g)
	}
}

// TestRebuildVaultWithoutDescriptor covers vaults written before vaults
// had descriptors: a catalogued one gets its descriptor at start (from its
// catalog row), and an uncatalogued one is described from its recovery
// points.
func TestRebuildVaultWithoutDescriptor(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{})
	c, mc := e.Client, e.S3.Client(t)
	if _, err := c.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("legacy")}); err != nil {
		t.Fatal(err)
	}
	bucket := e.S3.NewBucket(t, true)
	want := coffertest.FillBucket(t, mc, bucket, "l/", 3, 1000)
	job, err := c.StartBackupJob(ctx, &backup.StartBackupJobInput{BackupVaultName: aws.String("legacy"),
		ResourceArn: aws.String("arn:aws:s3:::" + bucket), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x")})
	if err != nil {
		t.Fatal(err)
	}
	e.WaitBackup(t, aws.ToString(job.BackupJobId))
	describe := func() (*backup.DescribeBackupVaultOutput, *backup.DescribeRecoveryPointOutput) {
		t.Helper()
		v, err := c.DescribeBackupVault(ctx, &backup.DescribeBackupVaultInput{BackupVaultName: aws.String("legacy")})
		if err != nil {
			t.Fatal(err)
		}
		rp, err := c.DescribeRecoveryPoint(ctx, &backup.DescribeRecoveryPointInput{BackupVaultName: aws.String("legacy"), RecoveryPointArn: job.RecoveryPointArn})
		if err != nil {
			t.Fatal(err)
		}
		return v, rp
	}
	v0, rp0 := describe()
	if aws.ToTime(v0.CreationDate).Equal(aws.ToTime(rp0.CreationDate)) {
		t.Fatal("vault and recovery point created in the same millisecond: the test cannot tell them apart")
	}

	// Catalogued: the start writes the descriptor from the catalog.
	e.Stop(t)
	stripDescriptor(t, e.DataDir)
	e.Restart(t)
	e.Stop(t)
	loseSQLiteCatalog(t, e)
	e.Restart(t)
	if v, _ := describe(); !aws.ToTime(v.CreationDate).Equal(aws.ToTime(v0.CreationDate)) {
		t.Fatalf("vault created %v after the rebuild, want %v", v.CreationDate, v0.CreationDate)
	}

	// Not catalogued: named after its recovery points, created when the oldest was.
	e.Stop(t)
	stripDescriptor(t, e.DataDir)
	loseSQLiteCatalog(t, e)
	e.Restart(t)
	v, rp := describe()
	if !aws.ToTime(v.CreationDate).Equal(aws.ToTime(rp0.CreationDate)) || v.NumberOfRecoveryPoints != 1 {
		t.Fatalf("vault described from its recovery points: %+v, want created %v", v, rp0.CreationDate)
	}
	compareJSON(t, "recovery point", rp0, rp)
	coffertest.CheckBucket(t, mc, coffertest.RestoreToNewBucket(t, c, aws.ToString(job.RecoveryPointArn)), want)
}

// stripDescriptor deletes the descriptor of the one vault in dataDir with
// kopia's own API, as a vault written before descriptors existed would be.
// (Only this test reaches under package vault: nothing in coffer deletes
// a descriptor.)
func stripDescriptor(t *testing.T, dataDir string) {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(dataDir, "vaults", "v-*"))
	if len(dirs) != 1 {
		t.Fatalf("vault directories: %v", dirs)
	}
	keyHex, err := os.ReadFile(filepath.Join(dataDir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(keyHex)))
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, key) // the documented vault secret (docs/format.md)
	m.Write([]byte("coffer vault secret v1\x00" + filepath.Base(dirs[0])))
	r, err := repo.Open(ctx, filepath.Join(dirs[0], "kopia.config"), hex.EncodeToString(m.Sum(nil)), &repo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(ctx)
	err = repo.WriteSession(ctx, r, repo.WriteSessionOptions{Purpose: "test"}, func(ctx context.Context, w repo.RepositoryWriter) error {
		mds, err := w.FindManifests(ctx, map[string]string{"type": "coffer-vault"})
		if err != nil {
			return err
		}
		if len(mds) == 0 {
			return errors.New("the vault has no descriptor to strip")
		}
		for _, md := range mds {
			if err := w.DeleteManifest(ctx, md.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
