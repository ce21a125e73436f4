package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/cofferbackup/coffer/internal/cli"
)

// TestRunMainDispatch checks the whole command table, as main assembles
// it (the client commands of internal/cli/... and the server), so it
// lives here rather than in internal/cli.
func TestRunMainDispatch(t *testing.T) {
	var out, errOut strings.Builder
	if code := cli.Main(context.Background(), []string{"help"}, &out, &errOut); code != 0 {
		t.Fatalf("help: code %d", code)
	}
	for name, summary := range cli.Summaries() {
		if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(name) + ` +` + regexp.QuoteMeta(summary) + `$`).MatchString(out.String()) {
			t.Errorf("help lacks %s with its summary:\n%s", name, out.String())
		}
	}
	out.Reset()
	if code := cli.Main(context.Background(), []string{"help", "vault"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "describe NAME") {
		t.Fatalf("help vault: code %d, out %q", code, out.String())
	}
	if code := cli.Main(context.Background(), []string{"help", "server"}, &out, &errOut); code != 0 {
		t.Fatalf("help server: code %d, stderr %q", code, errOut.String())
	}
	errOut.Reset()
	if code := cli.Main(context.Background(), []string{"nope"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "unknown command") {
		t.Fatalf("unknown: code %d, stderr %q", code, errOut.String())
	}
	errOut.Reset()
	if code := cli.Main(context.Background(), []string{"vault", "frob"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "unknown subcommand") {
		t.Fatalf("unknown sub: code %d, stderr %q", code, errOut.String())
	}
	errOut.Reset()
	if code := cli.Main(context.Background(), []string{"vault", "describe"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "expected one vault NAME") {
		t.Fatalf("missing arg: code %d, stderr %q", code, errOut.String())
	}
	if code := cli.Main(context.Background(), []string{"backup", "start", "-h"}, &out, &errOut); code != 0 {
		t.Fatalf("-h: code %d", code)
	}
}
