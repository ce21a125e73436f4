package cli

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/auth"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// checkUsageErr checks err against a table case: when wantUsage, err must
// be a usage error, else nil. It returns whether the case goes on to check
// the result.
func checkUsageErr(t *testing.T, err error, wantUsage bool) bool {
	t.Helper()
	if wantUsage {
		if !errors.Is(err, ErrUsage) {
			t.Fatalf("err = %v, want a usage error", err)
		}
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

func TestResolveOptions(t *testing.T) {
	tmp := t.TempDir()
	full := filepath.Join(tmp, "full") // server.json and credentials.json
	writeFile(t, filepath.Join(full, serverInfoFile), `{"endpoint":"http://10.0.0.1:9000"}`)
	writeFile(t, filepath.Join(full, auth.CredentialsFileName), `{"access_key_id":"FILEAK","secret_access_key":"FILESK"}`)
	empty := filepath.Join(tmp, "empty")
	bad := filepath.Join(tmp, "bad")
	writeFile(t, filepath.Join(bad, serverInfoFile), `not json`)
	flagCreds := globalFlags{accessKey: "FLAGAK", secretKey: "FLAGSK"}

	cases := []struct {
		name    string
		flags   globalFlags
		env     map[string]string
		want    options
		wantErr string
	}{
		{name: "files in data dir flag", flags: globalFlags{dataDir: full},
			want: options{Endpoint: "http://10.0.0.1:9000", Region: "us-east-1", DataDir: full, Creds: auth.Credentials{AccessKeyID: "FILEAK", SecretAccessKey: "FILESK"}}},
		{name: "data dir from env", env: map[string]string{envDataDir: full},
			want: options{Endpoint: "http://10.0.0.1:9000", Region: "us-east-1", DataDir: full, Creds: auth.Credentials{AccessKeyID: "FILEAK", SecretAccessKey: "FILESK"}}},
		{name: "data dir flag beats env", flags: globalFlags{dataDir: full}, env: map[string]string{envDataDir: empty},
			want: options{Endpoint: "http://10.0.0.1:9000", Region: "us-east-1", DataDir: full, Creds: auth.Credentials{AccessKeyID: "FILEAK", SecretAccessKey: "FILESK"}}},
		{name: "env beats files", flags: globalFlags{dataDir: full},
			env:  map[string]string{envEndpoint: "http://env:1", envAccessKey: "ENVAK", envSecretKey: "ENVSK", envRegion: "eu-west-1"},
			want: options{Endpoint: "http://env:1", Region: "eu-west-1", DataDir: full, Creds: auth.Credentials{AccessKeyID: "ENVAK", SecretAccessKey: "ENVSK"}}},
		{name: "flags beat env", flags: globalFlags{dataDir: full, endpoint: "https://flag:2/", region: "ap-south-1", accessKey: "FLAGAK", secretKey: "FLAGSK", json: true},
			env:  map[string]string{envEndpoint: "http://env:1", envAccessKey: "ENVAK", envSecretKey: "ENVSK", envRegion: "eu-west-1"},
			want: options{Endpoint: "https://flag:2", Region: "ap-south-1", DataDir: full, JSON: true, Creds: auth.Credentials{AccessKeyID: "FLAGAK", SecretAccessKey: "FLAGSK"}}},
		{name: "COFFER_ beats COFFER_ROOT_", flags: globalFlags{dataDir: full},
			env:  map[string]string{envAccessKey: "ENVAK", envSecretKey: "ENVSK", envRootAccessKey: "ROOTAK", envRootSecretKey: "ROOTSK"},
			want: options{Endpoint: "http://10.0.0.1:9000", Region: "us-east-1", DataDir: full, Creds: auth.Credentials{AccessKeyID: "ENVAK", SecretAccessKey: "ENVSK"}}},
		{name: "COFFER_ROOT_ beats file", flags: globalFlags{dataDir: full},
			env:  map[string]string{envRootAccessKey: "ROOTAK", envRootSecretKey: "ROOTSK"},
			want: options{Endpoint: "http://10.0.0.1:9000", Region: "us-east-1", DataDir: full, Creds: auth.Credentials{AccessKeyID: "ROOTAK", SecretAccessKey: "ROOTSK"}}},
		{name: "defaults", flags: globalFlags{dataDir: empty, accessKey: "FLAGAK", secretKey: "FLAGSK"},
			want: options{Endpoint: defaultEndpoint, Region: "us-east-1", DataDir: empty, Creds: auth.Credentials{AccessKeyID: "FLAGAK", SecretAccessKey: "FLAGSK"}}},
		{name: "default data dir", flags: flagCreds,
			want: options{Endpoint: defaultEndpoint, Region: "us-east-1", DataDir: defaultDataDir, Creds: auth.Credentials{AccessKeyID: "FLAGAK", SecretAccessKey: "FLAGSK"}}},
		{name: "bare host endpoint", flags: globalFlags{dataDir: empty, endpoint: "127.0.0.1:7000", accessKey: "A", secretKey: "S"},
			want: options{Endpoint: "http://127.0.0.1:7000", Region: "us-east-1", DataDir: empty, Creds: auth.Credentials{AccessKeyID: "A", SecretAccessKey: "S"}}},
		{name: "no credentials anywhere", flags: globalFlags{dataDir: empty}, wantErr: "no credentials"},
		{name: "half credentials", flags: globalFlags{dataDir: full, accessKey: "ONLY"}, wantErr: "both"},
		{name: "bad server.json", flags: globalFlags{dataDir: bad, accessKey: "A", secretKey: "S"}, wantErr: "parse"},
		{name: "bad endpoint", flags: globalFlags{dataDir: empty, endpoint: "ftp://x", accessKey: "A", secretKey: "S"}, wantErr: "invalid endpoint"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			got, err := resolveOptions(tc.flags, lookup)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("resolveOptions: %v", err)
			}
			if got != tc.want {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestServerInfoRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if err := WriteServerInfo(dir, "http://127.0.0.1:1234"); err != nil {
		t.Fatal(err)
	}
	got, err := ReadServerInfo(dir)
	if err != nil || got != "http://127.0.0.1:1234" {
		t.Fatalf("readServerInfo = %q, %v", got, err)
	}
}

func TestParseArgs(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		wantPos []string
		wantTag map[string]string
		json    bool
		wantErr bool
	}{
		{name: "flags after positional", args: []string{"v1", "--tag", "a=b", "--json"}, wantPos: []string{"v1"}, wantTag: map[string]string{"a": "b"}, json: true},
		{name: "flags first", args: []string{"-tag=a=b=c", "v1"}, wantPos: []string{"v1"}, wantTag: map[string]string{"a": "b=c"}},
		{name: "interleaved", args: []string{"x", "--tag", "k=1", "y", "--tag", "l=2"}, wantPos: []string{"x", "y"}, wantTag: map[string]string{"k": "1", "l": "2"}},
		{name: "double dash", args: []string{"--json", "--", "--tag", "z"}, wantPos: []string{"--tag", "z"}, wantTag: map[string]string{}, json: true},
		{name: "bad tag", args: []string{"--tag", "novalue"}, wantErr: true},
		{name: "unknown flag", args: []string{"--nope"}, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := WithIO(context.Background(), io.Discard, io.Discard)
			fs, g := newFlagSet(ctx, "test", "")
			tags := TagFlag{}
			fs.Var(tags, "tag", "")
			pos, err := parseArgs(fs, tc.args)
			if !checkUsageErr(t, err, tc.wantErr) {
				return
			}
			if !reflect.DeepEqual(pos, tc.wantPos) || !reflect.DeepEqual(map[string]string(tags), tc.wantTag) || g.json != tc.json {
				t.Fatalf("pos=%q tags=%v json=%v", pos, tags, g.json)
			}
		})
	}
}

func TestParseArgsHelp(t *testing.T) {
	fs, _ := newFlagSet(WithIO(context.Background(), io.Discard, io.Discard), "test", "")
	if _, err := parseArgs(fs, []string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v, want flag.ErrHelp", err)
	}
}

func TestTimeFlag(t *testing.T) {
	var f TimeFlag
	if err := f.Set("2024-01-02T03:04:05+02:00"); err != nil {
		t.Fatal(err)
	}
	if !f.Time.Equal(time.Date(2024, 1, 2, 1, 4, 5, 0, time.UTC)) {
		t.Fatalf("parsed %v", f.Time)
	}
	if err := f.Set("yesterday"); err == nil {
		t.Fatal("accepted a non RFC 3339 time")
	}
}
