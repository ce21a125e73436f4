package cli

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

// PollInterval is how often --wait asks for the job state.
var PollInterval = 500 * time.Millisecond

// JobProgress is the part of a Describe*Job answer that --wait shows.
type JobProgress struct {
	State      string
	Percent    float64 // < 0 when unknown
	Done       int64   // bytes transferred, < 0 when unknown
	Total      int64   // bytes in total, < 0 when unknown
	ETAMinutes int64   // < 0 when unknown
	Message    string
}

// terminalStates end a job; failedStates make --wait exit non-zero.
var (
	TerminalStates = map[string]bool{"COMPLETED": true, "PARTIAL": true, "FAILED": true, "ABORTED": true, "EXPIRED": true}
	failedStates   = map[string]bool{"FAILED": true, "ABORTED": true, "EXPIRED": true}
)

// PercentOf derives the percentage from PercentDone, else from done/total.
func PercentOf(percentDone *string, done, total *int64) float64 {
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

// OrMinus is *n, or -1 (unknown) when n is nil.
func OrMinus(n *int64) int64 {
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

// WaitJob polls until the job reaches a terminal state, showing progress
// on w: a bar rewritten in place on a terminal, a line per change
// otherwise. It returns the last progress seen; the error is non-nil when
// polling failed or the job ended FAILED, ABORTED or EXPIRED.
func waitJob(ctx context.Context, w io.Writer, what string, poll func(context.Context) (JobProgress, error)) (JobProgress, error) {
	tty := isTerminal(w)
	var last string
	tick := time.NewTicker(PollInterval)
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
		if TerminalStates[p.State] {
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

func finalError(what string, p JobProgress) error {
	if !failedStates[p.State] {
		return nil
	}
	if p.Message != "" {
		return fmt.Errorf("%s ended %s: %s", what, p.State, p.Message)
	}
	return fmt.Errorf("%s ended %s", what, p.State)
}

// progressLine renders one status line, with a bar on a terminal.
func progressLine(what string, p JobProgress, bar bool) string {
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
		fmt.Fprintf(&b, " %s/%s", HumanBytes(&p.Done), HumanBytes(&p.Total))
	case p.Done >= 0:
		fmt.Fprintf(&b, " %s", HumanBytes(&p.Done))
	case p.Total > 0:
		fmt.Fprintf(&b, " of %s", HumanBytes(&p.Total))
	}
	if p.ETAMinutes > 0 && !TerminalStates[p.State] {
		fmt.Fprintf(&b, " ~%d min left", p.ETAMinutes)
	}
	if p.Message != "" && TerminalStates[p.State] {
		fmt.Fprintf(&b, " (%s)", p.Message)
	}
	return b.String()
}

// JobKind is what --wait and the describe subcommand need of a kind of
// job.
type JobKind[T any] struct {
	Name     string                                                   // "backup job"
	Fetch    func(context.Context, *backup.Client, string) (T, error) // describes the job with an ID
	Progress func(T) JobProgress                                      // the progress in fetch's answer
	Print    func(io.Writer, T) error                                 // prints fetch's answer for humans
}

// describe fetches the job id and its progress.
func (k JobKind[T]) describe(ctx context.Context, s *Session, id string) (T, JobProgress, error) {
	out, err := k.Fetch(ctx, s.Client, id)
	if err != nil {
		return out, JobProgress{}, WrapAPI("describe "+k.Name+" "+id, err)
	}
	return out, k.Progress(out), nil
}

// wait waits for the job id, then prints its last state like the describe
// subcommand does. The error is WaitJob's.
func (k JobKind[T]) wait(ctx context.Context, s *Session, id string) error {
	var (
		last T
		seen bool
	)
	_, err := waitJob(ctx, s.progressWriter(), k.Name+" "+id, func(ctx context.Context) (JobProgress, error) {
		out, p, err := k.describe(ctx, s, id)
		if err == nil {
			last, seen = out, true
		}
		return p, err
	})
	if seen {
		if perr := s.emit(last, func(w io.Writer) error { return k.Print(w, last) }); perr != nil && err == nil {
			err = perr
		}
	}
	return err
}

// progressWriter is where --wait draws progress: stdout, unless stdout
// carries JSON.
func (s *Session) progressWriter() io.Writer {
	if s.opts.JSON {
		return s.errOut
	}
	return s.out
}

// Show runs the describe subcommand of the kind of job.
func (k JobKind[T]) Show(c *ClientCmd, args []string) error {
	return CallAndShow(c, args, func(ctx context.Context, s *Session, id string) (T, error) {
		out, _, err := k.describe(ctx, s, id)
		return out, err
	}, func(w io.Writer, out T, _ string) error { return k.Print(w, out) })
}

// StartJob runs the start subcommand of a kind of job: start returns the
// answer to the start request (S) and the job ID. With *wait, it then
// waits for the job like k.wait, else it prints the answer with human.
func StartJob[S, T any](c *ClientCmd, args []string, k JobKind[T], wait *bool,
	start func(context.Context, *Session) (S, string, error), human func(io.Writer, S) error) error {
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
