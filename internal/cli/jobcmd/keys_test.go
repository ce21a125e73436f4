package jobcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/jackc/pgx/v5"

	"github.com/cofferbackup/coffer/internal/backup/backuptest"
	"github.com/cofferbackup/coffer/internal/cli/clitest"
	"github.com/cofferbackup/coffer/internal/coffertest"
	"github.com/cofferbackup/coffer/internal/service"
	"github.com/cofferbackup/coffer/internal/testserver"
)

// Keys named like customer files. The restore asks for the customers/
// ones: Globex exists at the destination (skipped, Overwrite false),
// Initech's write is refused (failed), ACME is restored.
const (
	keyACME    = "customers/ACME-Corp-salaries.xlsx"
	keyGlobex  = "customers/Globex-payroll.csv"
	keyInitech = "customers/Initech-contract.pdf"
	keyOther   = "other/unrelated.txt"
	// keyUmbrella is added after the first backup; the second cannot read it.
	keyUmbrella = "customers/Umbrella-2026-bonus.docx"
)

// secretWords must appear nowhere in the catalog or the log.
var secretWords = []string{"ACME-Corp-salaries", "Globex-payroll", "Initech-contract", "Umbrella-2026-bonus", "customers/", "unrelated.txt"}

// syncBuffer is a log sink safe for the service's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestObjectKeysStayInTheVault runs a restore of named items with
// Overwrite false (one key skipped, one refused by the destination) and a
// restart between StartRestoreJob and the run, then looks for the keys
// in the catalog (SQLite's files; every text column on PostgreSQL) and
// the log: none there. The job reports, through the API and the CLI,
// list them exactly.
func TestObjectKeysStayInTheVault(t *testing.T) {
	for _, engine := range coffertest.Engines {
		t.Run(engine, func(t *testing.T) { testObjectKeysStayInTheVault(t, coffertest.Database(t, engine)) })
	}
}

func testObjectKeysStayInTheVault(t *testing.T, db string) {
	ctx := context.Background()
	s3 := testserver.Shared(t, testserver.MinIO)
	proxy := backuptest.NewProxy(t, s3.Endpoint)
	logs := &syncBuffer{}
	var held atomic.Bool // the first restore holds the only worker until the restart
	e := coffertest.Start(t, coffertest.Options{S3: s3, Database: db, MaxJobs: 1,
		TestHooks: &service.TestHooks{RestoreRunning: func(ctx context.Context, _ string) {
			if held.CompareAndSwap(false, true) {
				<-ctx.Done()
			}
		}},
		Configure: func(c *service.Config) {
			c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			src := c.Sources[service.DefaultConnection]
			src.Endpoint = proxy.URL
			c.Sources[service.DefaultConnection] = src
		}})
	mc := s3.Client(t)
	src, dst := s3.NewBucket(t, true), s3.NewBucket(t, true)
	clitest.PutObjects(t, mc, src, map[string]string{keyACME: "acme salaries", keyGlobex: "globex payroll", keyInitech: "initech contract", keyOther: "other"})
	clitest.PutObjects(t, mc, dst, map[string]string{keyGlobex: "already here"})
	proxy.DenyWrites(dst, keyInitech)

	vault := testserver.UniqueBucketName("keys")
	if _, err := e.Client.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String(vault)}); err != nil {
		t.Fatal(err)
	}
	bj, err := e.Client.StartBackupJob(ctx, &backup.StartBackupJobInput{BackupVaultName: aws.String(vault),
		ResourceArn: aws.String("arn:aws:s3:::" + src), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/r")})
	if err != nil {
		t.Fatal(err)
	}
	done := e.WaitBackup(t, aws.ToString(bj.BackupJobId))
	if done.State != types.BackupJobStateCompleted {
		t.Fatalf("backup: %s %q", done.State, aws.ToString(done.StatusMessage))
	}
	rp := aws.ToString(done.RecoveryPointArn)

	// The blocker takes the only worker; the restore of the items waits
	// in the queue across the restart.
	blocker := startRestore(t, e.Client, rp, map[string]string{"DestinationBucketName": testserver.UniqueBucketName("blk"), "NewBucket": "true"})
	waitRestoreStatus(t, e.Client, blocker, types.RestoreJobStatusRunning)
	items := []string{"s3://" + src + "/" + keyACME, "s3://" + src + "/" + keyGlobex, "s3://" + src + "/" + keyInitech}
	raw, _ := json.Marshal(items)
	id := startRestore(t, e.Client, rp, map[string]string{"DestinationBucketName": dst, "ItemsToRestore": string(raw), "Overwrite": "false"})
	if st := describeRestore(t, e.Client, id).Status; st != types.RestoreJobStatusPending {
		t.Fatalf("restore of the items before the restart: %s, want PENDING", st)
	}
	e.Restart(t)
	j := e.WaitRestore(t, id)
	if j.Status != types.RestoreJobStatusFailed || !strings.Contains(aws.ToString(j.StatusMessage), "1 objects failed") ||
		!strings.Contains(aws.ToString(j.StatusMessage), "skipped 1 keys") {
		t.Fatalf("restore: %s %q, want FAILED with 1 failed and 1 skipped", j.Status, aws.ToString(j.StatusMessage))
	}
	sameObjects(t, "destination", readBucket(t, mc, dst), map[string]string{keyACME: "acme salaries", keyGlobex: "already here"})

	// The report through the API, then the CLI.
	var rep struct {
		RestoreJobId, State         string
		ItemsToRestore, SkippedKeys []string
		SkippedCount, FailedCount   int64
		Failures                    []struct{ Key, Reason string }
	}
	getExtension(t, e, "/restore-jobs/"+id+"/report", &rep)
	if rep.RestoreJobId != id || rep.State != "FAILED" || !slices.Equal(rep.ItemsToRestore, items) ||
		!slices.Equal(rep.SkippedKeys, []string{keyGlobex}) || rep.SkippedCount != 1 || rep.FailedCount != 1 ||
		len(rep.Failures) != 1 || rep.Failures[0].Key != keyInitech || !strings.Contains(rep.Failures[0].Reason, "Access Denied") {
		t.Fatalf("restore report through the API: %+v", rep)
	}
	cli := clitest.NewEnv(t, e.Endpoint, e.Creds)
	var cliRep struct {
		ItemsToRestore, SkippedKeys []string
		Failures                    []struct{ Key string }
	}
	cli.RunJSON(&cliRep, "restore", "report", id)
	if !slices.Equal(cliRep.ItemsToRestore, items) || !slices.Equal(cliRep.SkippedKeys, []string{keyGlobex}) ||
		len(cliRep.Failures) != 1 || cliRep.Failures[0].Key != keyInitech {
		t.Fatalf("coffer restore report --json: %+v", cliRep)
	}
	out := cli.Run("restore", "report", id)
	for _, want := range append(items, "  "+keyGlobex+"\n", "  "+keyInitech+" (version ", "Access Denied", "FAILED") {
		if !strings.Contains(out, want) {
			t.Errorf("coffer restore report: no %q in\n%s", want, out)
		}
	}
	backupReport(t, e, proxy, cli, src, vault)

	e.Stop(t) // SQLite: everything is in the files (WAL included) as they are
	if db == "" {
		grepCatalogFiles(t, e.DataDir)
	} else {
		scanPostgres(t, db)
	}
	for _, w := range secretWords {
		if strings.Contains(logs.String(), w) {
			t.Errorf("the log names %q:\n%s", w, logs.String())
		}
	}
}

// backupReport backs up src with one version refused by the source:
// PARTIAL, its status message without the key, its report with it.
func backupReport(t *testing.T, e *coffertest.Env, proxy *backuptest.Proxy, cli *clitest.Env, src, vault string) {
	t.Helper()
	ctx := context.Background()
	clitest.PutObjects(t, e.S3.Client(t), src, map[string]string{keyUmbrella: "bonus"})
	proxy.Deny(src, keyUmbrella)
	bj, err := e.Client.StartBackupJob(ctx, &backup.StartBackupJobInput{BackupVaultName: aws.String(vault),
		ResourceArn: aws.String("arn:aws:s3:::" + src), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/r")})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(bj.BackupJobId)
	j := e.WaitBackup(t, id)
	if j.State != types.BackupJobStatePartial || !strings.Contains(aws.ToString(j.StatusMessage), "1 versions failed") {
		t.Fatalf("backup with a refused version: %s %q", j.State, aws.ToString(j.StatusMessage))
	}
	rp, err := e.Client.DescribeRecoveryPoint(ctx, &backup.DescribeRecoveryPointInput{BackupVaultName: aws.String(vault), RecoveryPointArn: j.RecoveryPointArn})
	if err != nil {
		t.Fatal(err)
	}
	if msg := aws.ToString(rp.StatusMessage); !strings.Contains(msg, "1 object versions could not be backed up") {
		t.Fatalf("partial recovery point: %q", msg)
	}
	var rep struct {
		BackupJobId, State string
		FailedCount        int64
		Failures           []struct{ Key, VersionId, Reason string }
	}
	getExtension(t, e, "/backup-jobs/"+id+"/report", &rep)
	if rep.BackupJobId != id || rep.State != "PARTIAL" || rep.FailedCount != 1 || len(rep.Failures) != 1 ||
		rep.Failures[0].Key != keyUmbrella || rep.Failures[0].VersionId == "" {
		t.Fatalf("backup report through the API: %+v", rep)
	}
	if out := cli.Run("backup", "report", id); !strings.Contains(out, "  "+keyUmbrella+" (version "+rep.Failures[0].VersionId+"): ") {
		t.Errorf("coffer backup report:\n%s", out)
	}
}

func startRestore(t *testing.T, c *backup.Client, rp string, md map[string]string) string {
	t.Helper()
	out, err := c.StartRestoreJob(context.Background(), &backup.StartRestoreJobInput{RecoveryPointArn: aws.String(rp),
		IamRoleArn: aws.String("arn:aws:iam::000000000000:role/r"), Metadata: md})
	if err != nil {
		t.Fatalf("start restore: %v", err)
	}
	return aws.ToString(out.RestoreJobId)
}

func describeRestore(t *testing.T, c *backup.Client, id string) *backup.DescribeRestoreJobOutput {
	t.Helper()
	out, err := c.DescribeRestoreJob(context.Background(), &backup.DescribeRestoreJobInput{RestoreJobId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func waitRestoreStatus(t *testing.T, c *backup.Client, id string, want types.RestoreJobStatus) {
	t.Helper()
	for range 600 {
		if describeRestore(t, c, id).Status == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("restore %s never %s", id, want)
}

// getExtension GETs a coffer extension path, signed, into v.
func getExtension(t *testing.T, e *coffertest.Env, path string, v any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.Endpoint+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := coffertest.Sign(req, e.Creds, nil); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, body)
	}
}

// grepCatalogFiles looks for the secret words in catalog.db and its WAL
// and shared-memory files.
func grepCatalogFiles(t *testing.T, dataDir string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dataDir, "catalog.db*"))
	if len(files) == 0 {
		t.Fatalf("no catalog files in %s", dataDir)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range secretWords {
			if n := bytes.Count(b, []byte(w)); n > 0 {
				t.Errorf("%s holds %q %d times", filepath.Base(f), w, n)
			}
		}
	}
}

// scanPostgres looks for the secret words in every text-like column of
// every table of the catalog's schema.
func scanPostgres(t *testing.T, db string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'bytea', 'ARRAY', 'USER-DEFINED')`)
	if err != nil {
		t.Fatal(err)
	}
	type col struct{ table, column string }
	var cols []col
	for rows.Next() {
		var c col
		if err := rows.Scan(&c.table, &c.column); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	if rows.Err() != nil || len(cols) < 10 {
		t.Fatalf("columns of the catalog schema: %d, %v", len(cols), rows.Err())
	}
	for _, c := range cols {
		for _, w := range secretWords {
			var n int
			q := fmt.Sprintf(`SELECT count(*) FROM %s WHERE %s::text LIKE '%%' || $1 || '%%'`,
				pgx.Identifier{c.table}.Sanitize(), pgx.Identifier{c.column}.Sanitize())
			if err := conn.QueryRow(ctx, q, w).Scan(&n); err != nil {
				t.Fatalf("%s.%s: %v", c.table, c.column, err)
			}
			if n > 0 {
				t.Errorf("%s.%s holds %q in %d rows", c.table, c.column, w, n)
			}
		}
	}
}
