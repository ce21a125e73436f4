// Package jobcmd holds the client commands of coffer's jobs: backup,
// restore (with its preview and report), copy and maintenance. They
// register from init() into the command table of internal/cli.
package jobcmd
