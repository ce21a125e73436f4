// Command coffer is the coffer backup service: `coffer server` runs the
// service and the other commands are clients of its AWS Backup compatible
// HTTP API. This package holds main, `coffer server` and `coffer bench`;
// the command table and the client plumbing are internal/cli, and the
// client commands, which register themselves from init(), are the
// packages under it that main imports.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/cofferbackup/coffer/internal/cli"
	// The client commands: each package registers its command groups.
	_ "github.com/cofferbackup/coffer/internal/cli/jobcmd"
	_ "github.com/cofferbackup/coffer/internal/cli/plancmd"
	_ "github.com/cofferbackup/coffer/internal/cli/vaultcmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
