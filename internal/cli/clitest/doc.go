// Package clitest is the test harness of the CLI's end-to-end tests: it
// runs `coffer server` in-process (StartServer and its variants, on a
// shared MinIO) and runs client commands in-process against a server
// through cli.Main (Env). The command packages' tests import the command
// families they drive, which register themselves into the table.
package clitest
