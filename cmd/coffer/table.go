// Command coffer is the coffer backup service: `coffer server` runs the
// service and the other commands are clients of its AWS Backup compatible
// HTTP API. Each command group lives in its own file and registers itself
// from init().
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
)

// command is one top-level subcommand (`coffer NAME ...`).
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string) error
}

var commands = map[string]command{}

// register adds a command; it is called from init() in each command file.
func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("coffer: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// runMain dispatches args[0] to its command and returns the exit code.
func runMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	ctx = withIO(ctx, stdout, stderr)
	if len(args) == 0 {
		printCommands(stderr)
		return 1
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				// -h, not "help": every command takes it as a request
				// for help, including those that are not groups.
				return exitCode(stderr, c.run(ctx, []string{"-h"}))
			}
		}
		printCommands(stdout)
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "coffer: unknown command %q\n\n", args[0])
		printCommands(stderr)
		return 1
	}
	return exitCode(stderr, c.run(ctx, args[1:]))
}

func exitCode(stderr io.Writer, err error) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	default:
		fmt.Fprintf(stderr, "coffer: %v\n", err)
		return 1
	}
}

func printCommands(w io.Writer) {
	fmt.Fprintln(w, "usage: coffer COMMAND [ARGS] [FLAGS]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, n := range names {
		fmt.Fprintf(tw, "  %s\t%s\n", n, commands[n].summary)
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "\nRun 'coffer help COMMAND' for the subcommands or flags of a command.")
}

// registerGroup registers a command made of subcommands.
func registerGroup(name, summary string, subs []subcommand) {
	register(command{name: name, summary: summary, run: func(ctx context.Context, args []string) error {
		return runGroup(ctx, name, subs, args)
	}})
}

// subcommand is one action of a command group (`coffer GROUP NAME ...`).
type subcommand struct {
	name, args, summary string
	run                 func(ctx context.Context, args []string) error
}

// runGroup dispatches args[0] among a group's subcommands.
func runGroup(ctx context.Context, group string, subs []subcommand, args []string) error {
	if len(args) == 0 {
		printGroup(stderrFrom(ctx), group, subs)
		return fmt.Errorf("%w: coffer %s needs a subcommand", errUsage, group)
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		printGroup(stdoutFrom(ctx), group, subs)
		return nil
	}
	for _, s := range subs {
		if s.name == args[0] {
			return s.run(ctx, args[1:])
		}
	}
	printGroup(stderrFrom(ctx), group, subs)
	return fmt.Errorf("%w: unknown subcommand %q of coffer %s", errUsage, args[0], group)
}

func printGroup(w io.Writer, group string, subs []subcommand) {
	fmt.Fprintf(w, "usage: coffer %s SUBCOMMAND [ARGS] [FLAGS]\n\nsubcommands:\n", group)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, s := range subs {
		fmt.Fprintf(tw, "  %s %s\t%s\n", s.name, s.args, s.summary)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\nRun 'coffer %s SUBCOMMAND -h' for its flags.\n", group)
}
