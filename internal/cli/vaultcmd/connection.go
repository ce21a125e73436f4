package vaultcmd

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/cofferbackup/coffer/internal/cli"
)

func init() {
	cli.RegisterGroup("connection", "create, list, describe and delete named S3 connections", []cli.Subcommand{
		{Name: "create", Args: "NAME --endpoint URL --access-key K --secret-key S [--region R] [--virtual-hosted] [--ca-file PEM]",
			Summary: "add an S3 endpoint (here --endpoint is the S3 endpoint: the coffer server comes from COFFER_ENDPOINT or the data directory)", Run: connectionCreate},
		{Name: "list", Summary: "list connections", Run: connectionList},
		{Name: "describe", Args: "NAME", Summary: "show a connection (never its secret)", Run: connectionDescribe},
		{Name: "delete", Args: "NAME", Summary: "delete a connection nothing uses", Run: connectionDelete},
	})
}

// connectionJSON is the API's connection (docs/api.md, "Connections").
type connectionJSON struct {
	ConnectionName, Endpoint, Region, AccessKeyId string //nolint:revive // AWS spelling
	VirtualHosted, PrivateCA, Static              bool
	CreationDate                                  float64
}

// takeFlag removes the first occurrence of flag name (as -name V,
// --name V or --name=V) from args and returns its value.
func takeFlag(args []string, name string) (rest []string, value string, found bool) {
	for i, a := range args {
		for _, p := range []string{"-" + name, "--" + name} {
			switch {
			case a == p && i+1 < len(args):
				return append(append([]string{}, args[:i]...), args[i+2:]...), args[i+1], true
			case strings.HasPrefix(a, p+"="):
				return append(append([]string{}, args[:i]...), args[i+1:]...), strings.TrimPrefix(a, p+"="), true
			}
		}
	}
	return args, "", false
}

func connectionCreate(ctx context.Context, args []string) error {
	// --endpoint and --region name the S3 endpoint here; a later one (or
	// COFFER_ENDPOINT, or the data directory) names the coffer server.
	args, s3Endpoint, _ := takeFlag(args, "endpoint")
	args, region, _ := takeFlag(args, "region")
	c := cli.NewClientCmd(ctx, "connection create", "NAME --endpoint URL --access-key K --secret-key S [--region R]", "one connection NAME")
	accessKey := c.FS.String("access-key", "", "the S3 access key (required)")
	secretKey := c.FS.String("secret-key", "", "the S3 secret key (required; env COFFER_CONNECTION_SECRET_KEY keeps it off the command line)")
	virtual := c.FS.Bool("virtual-hosted", false, "address buckets as BUCKET.host (AWS S3) instead of host/BUCKET")
	caFile := c.FS.String("ca-file", "", "PEM `FILE` of the CA that signs the endpoint's certificate")
	return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, name string) (*connectionJSON, error) {
		if s3Endpoint == "" {
			return nil, fmt.Errorf("%w: --endpoint URL of the S3 endpoint is required", cli.ErrUsage)
		}
		secret := cli.First(*secretKey, os.Getenv("COFFER_CONNECTION_SECRET_KEY"))
		var ca []byte
		if *caFile != "" {
			var err error
			if ca, err = os.ReadFile(*caFile); err != nil {
				return nil, fmt.Errorf("read --ca-file: %w", err)
			}
		}
		var out connectionJSON
		err := s.Extension(ctx, http.MethodPut, "/connections/"+url.PathEscape(name), map[string]any{"Endpoint": s3Endpoint,
			"Region": region, "AccessKeyId": *accessKey, "SecretAccessKey": secret, "VirtualHosted": *virtual, "CACertificate": string(ca)}, &out)
		return &out, cli.WrapAPI("create connection "+name, err)
	}, func(w io.Writer, out *connectionJSON, _ string) error {
		fmt.Fprintf(w, "created connection %s\n", out.ConnectionName)
		return showConnection(w, out)
	})
}

func showConnection(w io.Writer, c *connectionJSON) error {
	var created *time.Time
	if c.CreationDate > 0 {
		t := time.UnixMilli(int64(c.CreationDate * 1000)).UTC()
		created = &t
	}
	return cli.Fields(w, "Name", &c.ConnectionName, "Endpoint", &c.Endpoint, "Region", &c.Region, "Access key", &c.AccessKeyId,
		"Virtual-hosted", &c.VirtualHosted, "Private CA", &c.PrivateCA, "From the environment", &c.Static, "Created", created)
}

func connectionList(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "connection list", "", "")
	return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, _ string) (*struct{ Connections []connectionJSON }, error) {
		var out struct{ Connections []connectionJSON }
		err := s.Extension(ctx, http.MethodGet, "/connections", nil, &out)
		return &out, cli.WrapAPI("list connections", err)
	}, func(w io.Writer, out *struct{ Connections []connectionJSON }, _ string) error {
		t := cli.NewTable(w, "NAME", "ENDPOINT", "ACCESS KEY", "FROM ENV")
		for _, c := range out.Connections {
			t.Row(c.ConnectionName, c.Endpoint, c.AccessKeyId, c.Static)
		}
		return t.Flush()
	})
}

func connectionDescribe(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "connection describe", "NAME", "one connection NAME")
	return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, name string) (*connectionJSON, error) {
		var out connectionJSON
		err := s.Extension(ctx, http.MethodGet, "/connections/"+url.PathEscape(name), nil, &out)
		return &out, cli.WrapAPI("describe connection "+name, err)
	}, func(w io.Writer, out *connectionJSON, _ string) error { return showConnection(w, out) })
}

func connectionDelete(ctx context.Context, args []string) error {
	c := cli.NewClientCmd(ctx, "connection delete", "NAME", "one connection NAME")
	return cli.CallAndShow(c, args, func(ctx context.Context, s *cli.Session, name string) (*struct{}, error) {
		err := s.Extension(ctx, http.MethodDelete, "/connections/"+url.PathEscape(name), nil, nil)
		return &struct{}{}, cli.WrapAPI("delete connection "+name, err)
	}, func(w io.Writer, _ *struct{}, name string) error {
		fmt.Fprintf(w, "deleted connection %s\n", name)
		return nil
	})
}
