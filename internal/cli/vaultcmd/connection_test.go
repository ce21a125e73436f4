package vaultcmd

import (
	"strings"
	"testing"

	"github.com/cofferbackup/coffer/internal/cli/clitest"
	"github.com/cofferbackup/coffer/internal/testserver"
)

// TestConnectionCommands: in coffer connection create, --endpoint and
// --region name the S3 endpoint (the coffer server comes from the later
// --endpoint here, as from COFFER_ENDPOINT); the secret never shows.
func TestConnectionCommands(t *testing.T) {
	endpoint, creds, s3 := clitest.StartServer(t)
	e := clitest.NewEnv(t, endpoint, creds)
	_, errOut := e.Fail("connection", "create", "second", "--endpoint", s3.Endpoint, "--access-key", s3.AccessKey, "--secret-key", "wrong")
	if !strings.Contains(errOut, "refused") {
		t.Errorf("create with a wrong secret: %q", errOut)
	}
	out := e.Run("connection", "create", "second", "--endpoint", s3.Endpoint, "--region", "eu-west-1",
		"--access-key", s3.AccessKey, "--secret-key", s3.SecretKey)
	if !strings.Contains(out, "created connection second") || !strings.Contains(out, "eu-west-1") || strings.Contains(out, s3.SecretKey) {
		t.Errorf("create:\n%s", out)
	}
	if out := e.Run("connection", "list"); !strings.Contains(out, "second") || !strings.Contains(out, "default") {
		t.Errorf("list:\n%s", out)
	}
	var c connectionJSON
	e.RunJSON(&c, "connection", "describe", "second")
	if c.Endpoint != s3.Endpoint || c.AccessKeyId != s3.AccessKey || c.Static {
		t.Errorf("describe: %+v", c)
	}
	bucket := s3.NewBucketWith(t, testserver.BucketOptions{ObjectLock: true})
	vault := testserver.UniqueBucketName("s3vault")
	// "second" says eu-west-1, which this MinIO refuses for bucket calls.
	e.Run("connection", "create", "third", "--endpoint", s3.Endpoint, "--access-key", s3.AccessKey, "--secret-key", s3.SecretKey)
	out = e.Run("vault", "create", vault, "--location", "s3://third/"+bucket+"/vaults")
	if !strings.Contains(out, "Location:") || !strings.Contains(out, "s3://third/"+bucket+"/vaults/v-") {
		t.Errorf("vault create --location:\n%s", out)
	}
	if out := e.Run("vault", "describe", vault); !strings.Contains(out, "s3://third/"+bucket+"/vaults/v-") {
		t.Errorf("vault describe of an S3 vault:\n%s", out)
	}
	if _, errOut := e.Fail("connection", "delete", "third"); !strings.Contains(errOut, "1 vaults") {
		t.Errorf("delete of a connection a vault lives on: %q", errOut)
	}
	e.Run("vault", "delete", vault)
	e.Run("connection", "delete", "third")
	e.Run("connection", "delete", "second")
	e.Fail("connection", "describe", "second")
}
