package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/cofferbackup/coffer/internal/coffertest"
	"github.com/cofferbackup/coffer/internal/testserver"
)

// extension sends a signed request to one of coffer's extensions and
// returns its status and body.
func extension(t *testing.T, e *coffertest.Env, method, path string, in any) (int, []byte) {
	t.Helper()
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, e.Endpoint+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := coffertest.Sign(req, e.Creds, body); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

// TestConnections: a second S3 endpoint (versitygw beside the default
// MinIO) as a named connection: refused with bad credentials; its buckets
// back up as arn:aws:s3:NAME::bucket and restore byte for byte to it and,
// with DestinationConnection, to the default one; it cannot be deleted
// while a recovery point uses it; its secret is never answered nor stored
// in clear.
func TestConnections(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{})
	c := e.Client
	vgw := testserver.Shared(t, testserver.VersityGW)
	create := func(name, secret string) (int, []byte) {
		return extension(t, e, http.MethodPut, "/connections/"+name, map[string]any{"Endpoint": vgw.Endpoint,
			"AccessKeyId": vgw.AccessKey, "SecretAccessKey": secret})
	}
	for _, tc := range []struct {
		what, name, secret, code string
	}{
		{"wrong secret", "vgw", "not-the-secret", "InvalidParameterValueException"},
		{"bad name", "bad_name", vgw.SecretKey, "InvalidParameterValueException"},
		{"the environment's", "default", vgw.SecretKey, "AlreadyExistsException"},
	} {
		status, body := create(tc.name, tc.secret)
		if status/100 == 2 || !strings.Contains(string(body), tc.code) {
			t.Errorf("%s: %d %s, want %s", tc.what, status, body, tc.code)
		}
	}
	if status, body := create("vgw", vgw.SecretKey); status != http.StatusOK {
		t.Fatalf("create: %d %s", status, body)
	}
	if status, body := create("vgw", vgw.SecretKey); !strings.Contains(string(body), "AlreadyExistsException") {
		t.Errorf("create twice: %d %s", status, body)
	}
	_, list := extension(t, e, http.MethodGet, "/connections", nil)
	if !strings.Contains(string(list), `"vgw"`) || !strings.Contains(string(list), `"default"`) || strings.Contains(string(list), vgw.SecretKey) {
		t.Fatalf("list: %s", list)
	}

	bucket := vgw.NewBucket(t, true)
	want := coffertest.FillBucket(t, vgw.Client(t), bucket, "c/", 4, 2000)
	if _, err := c.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("conns")}); err != nil {
		t.Fatal(err)
	}
	rp := backupOn(t, e, "conns", "arn:aws:s3:vgw::"+bucket)
	for _, tc := range []struct {
		what   string
		meta   map[string]string
		server *testserver.Server
		arn    string
	}{
		{"to its own connection", nil, vgw, "arn:aws:s3:vgw::"},
		{"to the default connection", map[string]string{"DestinationConnection": "default"}, e.S3, "arn:aws:s3:::"},
	} {
		dest, id := coffertest.StartRestoreToNewBucket(t, c, rp, tc.meta)
		j := e.WaitRestore(t, id)
		if j.Status != types.RestoreJobStatusCompleted || aws.ToString(j.CreatedResourceArn) != tc.arn+dest {
			t.Fatalf("restore %s: %s %q into %s", tc.what, j.Status, aws.ToString(j.StatusMessage), aws.ToString(j.CreatedResourceArn))
		}
		coffertest.CheckBucket(t, tc.server.Client(t), dest, want)
	}
	_, err := c.StartBackupJob(ctx, &backup.StartBackupJobInput{BackupVaultName: aws.String("conns"),
		ResourceArn: aws.String("arn:aws:s3:nope::" + bucket), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x")})
	wantCode(t, "backup on an unknown connection", err, "InvalidParameterValueException")

	if status, body := extension(t, e, http.MethodDelete, "/connections/vgw", nil); status/100 == 2 || !strings.Contains(string(body), "1 recovery points") {
		t.Errorf("delete while used: %d %s", status, body)
	}
	// The secret is sealed: not in the catalog's files in clear.
	for _, f := range []string{"catalog.db", "catalog.db-wal"} {
		data, err := os.ReadFile(filepath.Join(e.DataDir, f))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(vgw.SecretKey)) {
			t.Errorf("the connection's secret is in %s in clear", f)
		}
	}
	// Restarted, the connection's secret opens under the master key.
	e.Restart(t)
	c = e.Client
	again := backupOn(t, e, "conns", "arn:aws:s3:vgw::"+bucket)
	for _, arn := range []string{rp, again} {
		if _, err := c.DeleteRecoveryPoint(ctx, &backup.DeleteRecoveryPointInput{BackupVaultName: aws.String("conns"), RecoveryPointArn: aws.String(arn)}); err != nil {
			t.Fatal(err)
		}
	}
	if status, body := extension(t, e, http.MethodDelete, "/connections/vgw", nil); status != http.StatusOK {
		t.Fatalf("delete once unused: %d %s", status, body)
	}
	if status, _ := extension(t, e, http.MethodGet, "/connections/vgw", nil); status != http.StatusNotFound {
		t.Errorf("describe a deleted connection: %d, want 404", status)
	}
}

// backupOn backs resource up into vaultName and returns its recovery point.
func backupOn(t *testing.T, e *coffertest.Env, vaultName, resource string) string {
	t.Helper()
	out, err := e.Client.StartBackupJob(ctx, &backup.StartBackupJobInput{BackupVaultName: aws.String(vaultName),
		ResourceArn: aws.String(resource), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x")})
	if err != nil {
		t.Fatal(err)
	}
	if j := e.WaitBackup(t, aws.ToString(out.BackupJobId)); j.State != types.BackupJobStateCompleted {
		t.Fatalf("backup of %s: %s %q", resource, j.State, aws.ToString(j.StatusMessage))
	}
	return aws.ToString(out.RecoveryPointArn)
}
