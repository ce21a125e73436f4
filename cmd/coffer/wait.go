package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/backup"
	"golang.org/x/term"
)

// pollInterval is how often --wait asks for the job state.
var pollInterval = 500 * time.Millisecond

// jobProgress is the part of a Describe*Job answer that --wait shows.
type jobProgress struct {
	State      string
	Percent    float64 // < 0 when unknown
	Done       int64   // bytes transferred, < 0 when unknown
	Total      int64   // bytes in total, < 0 when unknown
	ETAMinutes int64   // < 0 when unknown
	Message    string
}

// terminalStates end a job; failedStates make --wait exit non-zero.
var (
	terminalStates = map[string]bool{"COMPLETED": true, "PARTIAL": true, "FAILED": true, "ABORTED": true, "EXPIRED": true}
	failedStates   = map[string]bool{"FAILED": true, "ABORTED": true, "EXPIRED": true}
)

// percentOf derives the percentage from PercentDone, else from done/total.
func percentOf(percentDone *string, done, total *int64) float64 {
	if percentDone != nil {
		s := strings.TrimSuffix(strings.TrimSpace(*percentDone), "%")
		if p, err := strconv.ParseFloat(s, 64); err == nil {
			return p
		}
	}
	if done != nil && total != nil && *total > 0 {
		return 100 * float64(*done) / float64(*total)
	}
	return -1
}

func orMinus(n *int64) int64 {
	if n == nil {
		return -1
	}
	return *n
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// waitJob polls until the job reaches a terminal state, showing progress
// on w: a bar rewritten in place on a terminal, a line per change
// otherwise. It returns the last progress seen; the error is non-nil when
// polling failed or the job ended FAILED, ABORTED or EXPIRED.
func waitJob(ctx context.Context, w io.Writer, what string, poll func(context.Context) (jobProgress, error)) (jobProgress, error) {
	tty := isTerminal(w)
	var last string
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		p, err := poll(ctx)
		if err != nil {
			if tty {
				fmt.Fprintln(w)
			}
			return p, err
		}
		line := progressLine(what, p, tty)
		switch {
		case tty:
			fmt.Fprintf(w, "\r%s\x1b[K", line)
		case line != last:
			fmt.Fprintln(w, line)
		}
		last = line
		if terminalStates[p.State] {
			if tty {
				fmt.Fprintln(w)
			}
			return p, finalError(what, p)
		}
		select {
		case <-ctx.Done():
			if tty {
				fmt.Fprintln(w)
			}
			return p, fmt.Errorf("stopped waiting for %s (the job goes on): %w", what, ctx.Err())
		case <-tick.C:
		}
	}
}

func finalError(what string, p jobProgress) error {
	if !failedStates[p.State] {
		return nil
	}
	if p.Message != "" {
		return fmt.Errorf("%s ended %s: %s", what, p.State, p.Message)
	}
	return fmt.Errorf("%s ended %s", what, p.State)
}

// progressLine renders one status line, with a bar on a terminal.
func progressLine(what string, p jobProgress, bar bool) string {
	var b strings.Builder
	b.WriteString(what)
	b.WriteString(": ")
	b.WriteString(p.State)
	if bar && p.Percent >= 0 {
		const width = 30
		n := int(p.Percent / 100 * width)
		n = max(0, min(width, n))
		fmt.Fprintf(&b, " [%s%s]", strings.Repeat("#", n), strings.Repeat(".", width-n))
	}
	if p.Percent >= 0 {
		fmt.Fprintf(&b, " %.1f%%", p.Percent)
	}
	switch {
	case p.Done >= 0 && p.Total > 0:
		fmt.Fprintf(&b, " %s/%s", humanBytes(&p.Done), humanBytes(&p.Total))
	case p.Done >= 0:
		fmt.Fprintf(&b, " %s", humanBytes(&p.Done))
	case p.Total > 0:
		fmt.Fprintf(&b, " of %s", humanBytes(&p.Total))
	}
	if p.ETAMinutes > 0 && !terminalStates[p.State] {
		fmt.Fprintf(&b, " ~%d min left", p.ETAMinutes)
	}
	if p.Message != "" && terminalStates[p.State] {
		fmt.Fprintf(&b, " (%s)", p.Message)
	}
	return b.String()
}

// jobKind is what --wait and the describe subcommand need of a kind of
// job.
type jobKind[T any] struct {
	name     string                                                   // "backup job"
	fetch    func(context.Context, *backup.Client, string) (T, error) // describes the job with an ID
	progress func(T) jobProgress                                      // the progress in fetch's answer
	print    func(io.Writer, T) error                                 // prints fetch's answer for humans
}

// describe fetches the job id and its progress.
func (k jobKind[T]) describe(ctx context.Context, s *session, id string) (T, jobProgress, error) {
	out, err := k.fetch(ctx, s.client, id)
	if err != nil {
		return out, jobProgress{}, wrapAPI("describe "+k.name+" "+id, err)
	}
	return out, k.progress(out), nil
}

// wait waits for the job id, then prints its last state like the describe
// subcommand does. The error is waitJob's.
func (k jobKind[T]) wait(ctx context.Context, s *session, id string) error {
	var (
		last T
		seen bool
	)
	_, err := waitJob(ctx, s.progressWriter(), k.name+" "+id, func(ctx context.Context) (jobProgress, error) {
		out, p, err := k.describe(ctx, s, id)
		if err == nil {
			last, seen = out, true
		}
		return p, err
	})
	if seen {
		if perr := s.emit(last, func(w io.Writer) error { return k.print(w, last) }); perr != nil && err == nil {
			err = perr
		}
	}
	return err
}

// progressWriter is where --wait draws progress: stdout, unless stdout
// carries JSON.
func (s *session) progressWriter() io.Writer {
	if s.opts.JSON {
		return s.errOut
	}
	return s.out
}

// show runs the describe subcommand of the kind of job.
func (k jobKind[T]) show(c *clientCmd, args []string) error {
	return callAndShow(c, args, func(ctx context.Context, s *session, id string) (T, error) {
		out, _, err := k.describe(ctx, s, id)
		return out, err
	}, func(w io.Writer, out T, _ string) error { return k.print(w, out) })
}

// startJob runs the start subcommand of a kind of job: start returns the
// answer to the start request (S) and the job ID. With *wait, it then
// waits for the job like k.wait, else it prints the answer with human.
func startJob[S, T any](c *clientCmd, args []string, k jobKind[T], wait *bool,
	start func(context.Context, *session) (S, string, error), human func(io.Writer, S) error) error {
	s, _, err := c.start(args)
	if err != nil {
		return err
	}
	out, id, err := start(c.ctx, s)
	if err != nil {
		return err
	}
	if *wait {
		return k.wait(c.ctx, s, id)
	}
	return s.emit(out, func(w io.Writer) error { return human(w, out) })
}
