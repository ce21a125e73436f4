package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
)

// Command is one top-level subcommand (`coffer NAME ...`).
type Command struct {
	Name, Summary string
	Run           func(ctx context.Context, args []string) error
}

// commands is the table Main dispatches on, filled by Register.
var commands = map[string]Command{}

// Summaries returns the registered commands' names and summaries (what
// `coffer help` lists).
func Summaries() map[string]string {
	out := make(map[string]string, len(commands))
	for n, c := range commands {
		out[n] = c.Summary
	}
	return out
}

// Register adds a command; it is called from init() in each command file.
func Register(c Command) {
	if _, dup := commands[c.Name]; dup {
		panic("coffer: command registered twice: " + c.Name)
	}
	commands[c.Name] = c
}

// Main dispatches args[0] to its command and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	ctx = WithIO(ctx, stdout, stderr)
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
				return exitCode(stderr, c.Run(ctx, []string{"-h"}))
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
	return exitCode(stderr, c.Run(ctx, args[1:]))
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
		fmt.Fprintf(tw, "  %s\t%s\n", n, commands[n].Summary)
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "\nRun 'coffer help COMMAND' for the subcommands or flags of a command.")
}

// RegisterGroup registers a command made of subcommands.
func RegisterGroup(name, summary string, subs []Subcommand) {
	Register(Command{Name: name, Summary: summary, Run: func(ctx context.Context, args []string) error {
		return runGroup(ctx, name, subs, args)
	}})
}

// Subcommand is one action of a command group (`coffer GROUP NAME ...`).
type Subcommand struct {
	Name, Args, Summary string
	Run                 func(ctx context.Context, args []string) error
}

// runGroup dispatches args[0] among a group's subcommands.
func runGroup(ctx context.Context, group string, subs []Subcommand, args []string) error {
	if len(args) == 0 {
		printGroup(StderrFrom(ctx), group, subs)
		return fmt.Errorf("%w: coffer %s needs a subcommand", ErrUsage, group)
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		printGroup(StdoutFrom(ctx), group, subs)
		return nil
	}
	for _, s := range subs {
		if s.Name == args[0] {
			return s.Run(ctx, args[1:])
		}
	}
	printGroup(StderrFrom(ctx), group, subs)
	return fmt.Errorf("%w: unknown subcommand %q of coffer %s", ErrUsage, args[0], group)
}

func printGroup(w io.Writer, group string, subs []Subcommand) {
	fmt.Fprintf(w, "usage: coffer %s SUBCOMMAND [ARGS] [FLAGS]\n\nsubcommands:\n", group)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, s := range subs {
		fmt.Fprintf(tw, "  %s %s\t%s\n", s.Name, s.Args, s.Summary)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\nRun 'coffer %s SUBCOMMAND -h' for its flags.\n", group)
}
