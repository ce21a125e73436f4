// Package cli is the plumbing of coffer's client commands: the command
// table (Register, RegisterGroup) and Main, which dispatches `coffer NAME
// ...` to a command; the flags every client command takes and their
// resolution into options (flags, environment, the server's data
// directory); the AWS Backup client and coffer's API extensions; output as
// tables, fields or JSON; and --wait's polling of a job.
//
// The commands themselves live in the packages under it (jobcmd,
// vaultcmd, plancmd), which register from init(); cmd/coffer imports them
// and adds `coffer server` and `coffer bench`.
package cli
