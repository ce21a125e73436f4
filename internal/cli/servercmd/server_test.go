package servercmd_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/jackc/pgx/v5"

	"github.com/cofferbackup/coffer/internal/cli/clitest"
	"github.com/cofferbackup/coffer/internal/cli/servercmd"
	"github.com/cofferbackup/coffer/internal/coffertest"
	"github.com/cofferbackup/coffer/internal/testserver"
)

func TestMain(m *testing.M) { testserver.Main(m) }

// TestServerOnPostgres: `coffer server` with COFFER_DATABASE_URL keeps its
// catalog in PostgreSQL, not in the data directory.
func TestServerOnPostgres(t *testing.T) {
	database := coffertest.Database(t, "postgres")
	endpoint, creds, _ := clitest.StartServerEnv(t, map[string]string{"COFFER_DATABASE_URL": database})
	c := coffertest.NewClient(endpoint, creds)
	if _, err := c.CreateBackupVault(context.Background(), &backup.CreateBackupVaultInput{BackupVaultName: aws.String("pg")}); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(context.Background(), database)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT COUNT(*) FROM vaults WHERE name = 'pg'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("vault rows in PostgreSQL: %d (%v)", n, err)
	}
	// The URL's search_path put coffer's and River's tables in the test's schema.
	var schema string
	err = conn.QueryRow(context.Background(), `SELECT current_schema(), (SELECT COUNT(*) FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_name IN ('vaults', 'river_job', 'catalog_meta'))`).Scan(&schema, &n)
	if err != nil || n != 3 || !strings.HasPrefix(schema, "coffer_test_") {
		t.Fatalf("tables in schema %q: %d of 3 (%v)", schema, n, err)
	}
}

func TestServerConfig(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
		check   func(servercmd.Config) error
	}{
		{name: "defaults", check: func(c servercmd.Config) error {
			if c.DataDir != "./coffer-data" || c.Listen != "127.0.0.1:8080" || c.Source != nil {
				return errors.New("wrong defaults")
			}
			return nil
		}},
		{name: "env", env: map[string]string{"COFFER_DATA_DIR": "/d", "COFFER_LISTEN": "[::1]:9000", "COFFER_S3_ENDPOINT": "http://s3:9000",
			"COFFER_S3_ACCESS_KEY": "a", "COFFER_S3_SECRET_KEY": "s"}, check: func(c servercmd.Config) error {
			if c.DataDir != "/d" || c.Listen != "[::1]:9000" || c.Source == nil || c.Source.Region != "us-east-1" || c.Source.AccessKey != "a" {
				return errors.New("env not applied")
			}
			return nil
		}},
		{name: "flag beats env", args: []string{"--listen", "localhost:1"}, env: map[string]string{"COFFER_LISTEN": "127.0.0.1:2"},
			check: func(c servercmd.Config) error {
				if c.Listen != "localhost:1" {
					return errors.New("flag ignored")
				}
				return nil
			}},
		{name: "public without tls", args: []string{"--listen", "0.0.0.0:8080"}, wantErr: "refusing to serve plain HTTP"},
		{name: "all interfaces without tls", args: []string{"--listen", ":8080"}, wantErr: "refusing to serve plain HTTP"},
		{name: "public insecure", args: []string{"--listen", "0.0.0.0:8080", "--insecure"}},
		{name: "public tls", args: []string{"--listen", "0.0.0.0:8443", "--tls-cert", "c", "--tls-key", "k"}},
		{name: "half tls", args: []string{"--tls-cert", "c"}, wantErr: "both --tls-cert and --tls-key"},
		{name: "database from env", env: map[string]string{"COFFER_DATABASE_URL": "postgres://db/coffer"}, check: func(c servercmd.Config) error {
			if c.Database != "postgres://db/coffer" {
				return errors.New("COFFER_DATABASE_URL ignored")
			}
			return nil
		}},
		{name: "database flag beats env", args: []string{"--database", "postgresql://flag/x"},
			env: map[string]string{"COFFER_DATABASE_URL": "postgres://env/x"}, check: func(c servercmd.Config) error {
				if c.Database != "postgresql://flag/x" {
					return errors.New("--database ignored")
				}
				return nil
			}},
		{name: "database default sqlite", check: func(c servercmd.Config) error {
			if c.Database != "" {
				return errors.New("database set by default")
			}
			return nil
		}},
		{name: "database not postgres", args: []string{"--database", "mysql://db/x"}, wantErr: "--database must be a postgres:// URL"},
		{name: "memory limit default", check: func(c servercmd.Config) error {
			if c.MemoryLimitMiB != 256 {
				return fmt.Errorf("memory limit %d MiB by default, want 256", c.MemoryLimitMiB)
			}
			return nil
		}},
		{name: "memory limit off", args: []string{"--memory-limit", "0"}, check: func(c servercmd.Config) error {
			if c.MemoryLimitMiB != 0 {
				return errors.New("--memory-limit 0 ignored")
			}
			return nil
		}},
		{name: "idle vaults default", check: func(c servercmd.Config) error {
			if c.IdleVaults != 4 {
				return fmt.Errorf("%d idle vaults by default, want 4", c.IdleVaults)
			}
			return nil
		}},
		{name: "idle vaults all", args: []string{"--idle-vaults", "-1"}, check: func(c servercmd.Config) error {
			if c.IdleVaults != -1 {
				return errors.New("--idle-vaults -1 ignored")
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := servercmd.ParseConfig(tt.args, func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				if err := tt.check(c); err != nil {
					t.Fatalf("%v: %+v", err, c)
				}
			}
		})
	}
}
