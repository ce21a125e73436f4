// Command coffer is the coffer backup service: `coffer server` runs the
// service and the other commands are clients of its AWS Backup compatible
// HTTP API. This package holds main and `coffer bench`; the command table
// and the client plumbing are internal/cli, and the commands, which
// register themselves from init(), are the packages under it that main
// imports (internal/cli/servercmd is `coffer server`).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/cofferbackup/coffer/internal/cli"
	// The commands: each package registers its own.
	_ "github.com/cofferbackup/coffer/internal/cli/jobcmd"
	_ "github.com/cofferbackup/coffer/internal/cli/plancmd"
	_ "github.com/cofferbackup/coffer/internal/cli/servercmd"
	_ "github.com/cofferbackup/coffer/internal/cli/vaultcmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
