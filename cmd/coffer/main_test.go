package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
)

func TestRunMainDispatch(t *testing.T) {
	var out, errOut strings.Builder
	if code := runMain(context.Background(), []string{"help"}, &out, &errOut); code != 0 {
		t.Fatalf("help: code %d", code)
	}
	for name, c := range commands {
		if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(name) + ` +` + regexp.QuoteMeta(c.summary) + `$`).MatchString(out.String()) {
			t.Errorf("help lacks %s with its summary:\n%s", name, out.String())
		}
	}
	out.Reset()
	if code := runMain(context.Background(), []string{"help", "vault"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "describe NAME") {
		t.Fatalf("help vault: code %d, out %q", code, out.String())
	}
	if code := runMain(context.Background(), []string{"help", "server"}, &out, &errOut); code != 0 {
		t.Fatalf("help server: code %d, stderr %q", code, errOut.String())
	}
	errOut.Reset()
	if code := runMain(context.Background(), []string{"nope"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "unknown command") {
		t.Fatalf("unknown: code %d, stderr %q", code, errOut.String())
	}
	errOut.Reset()
	if code := runMain(context.Background(), []string{"vault", "frob"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "unknown subcommand") {
		t.Fatalf("unknown sub: code %d, stderr %q", code, errOut.String())
	}
	errOut.Reset()
	if code := runMain(context.Background(), []string{"vault", "describe"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "expected one vault NAME") {
		t.Fatalf("missing arg: code %d, stderr %q", code, errOut.String())
	}
	if code := runMain(context.Background(), []string{"backup", "start", "-h"}, &out, &errOut); code != 0 {
		t.Fatalf("-h: code %d", code)
	}
}
