// Package plancmd holds the client commands of backup plans and their
// selections (plan, selection) and the reading of their JSON documents,
// as the aws CLI takes them. They register from init() into the command
// table of internal/cli.
package plancmd
