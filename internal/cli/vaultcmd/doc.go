// Package vaultcmd holds the client commands of coffer's vaults and what
// they keep: vault (create, attach, verify, lock), recovery-point,
// legal-hold, tag and resource, and the named S3 connections vaults and
// backups use. They register from init() into the command table of
// internal/cli.
package vaultcmd
