package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/smithy-go"
)

// newFlagSet returns a flag set for `coffer NAME` with the global flags
// added. args describes the positional arguments for the usage line.
func newFlagSet(ctx context.Context, name, args string) (*flag.FlagSet, *globalFlags) {
	fs := flag.NewFlagSet("coffer "+name, flag.ContinueOnError)
	w := StderrFrom(ctx)
	fs.SetOutput(w)
	fs.Usage = func() {
		fmt.Fprintf(w, "%s\n\nflags:\n", strings.TrimSpace("usage: coffer "+name+" "+args))
		fs.PrintDefaults()
	}
	return fs, addGlobalFlags(fs)
}

// parseArgs parses flags that may appear before, between or after the
// positional arguments, which it returns. Everything after "--" is
// positional.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", ErrUsage, err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// wantArgs parses args and checks that exactly n positional arguments
// (named in what) were given.
func wantArgs(fs *flag.FlagSet, args []string, n int, what string) ([]string, error) {
	pos, err := parseArgs(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) != n {
		fs.Usage()
		if n == 0 {
			return nil, fmt.Errorf("%w: unexpected arguments %q", ErrUsage, pos)
		}
		return nil, fmt.Errorf("%w: expected %s", ErrUsage, what)
	}
	return pos, nil
}

// UsageError reports a flag mistake found after parsing.
func UsageError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUsage, fmt.Sprintf(format, args...))
}

// StringList is a repeatable string flag.
type StringList []string

func (l *StringList) String() string { return strings.Join(*l, ",") }

func (l *StringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// TagFlag is a repeatable key=value flag.
type TagFlag map[string]string

func (t TagFlag) String() string {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k+"="+t[k])
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

func (t TagFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("tag %q is not KEY=VALUE", v)
	}
	t[k] = val
	return nil
}

// ListFlag is a repeatable flag of strings.
type ListFlag []string

func (l *ListFlag) String() string { return strings.Join(*l, ",") }

func (l *ListFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// TimeFlag is an optional RFC 3339 time.
type TimeFlag struct{ Time *time.Time }

func (f *TimeFlag) String() string {
	if f == nil || f.Time == nil {
		return ""
	}
	return f.Time.Format(time.RFC3339)
}

func (f *TimeFlag) Set(v string) error {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return fmt.Errorf("want an RFC 3339 time such as 2024-01-02T15:04:05Z: %w", err)
	}
	f.Time = &t
	return nil
}

// CreatedFlags adds --created-after and --created-before; what names the
// listed things in their help.
func CreatedFlags(fs *flag.FlagSet, what string) (after, before *TimeFlag) {
	after, before = &TimeFlag{}, &TimeFlag{}
	fs.Var(after, "created-after", "only "+what+" created after `TIME` (RFC 3339)")
	fs.Var(before, "created-before", "only "+what+" created before `TIME` (RFC 3339)")
	return after, before
}

// apiError presents an AWS API error as "op: Code: message".
type apiError struct {
	op  string
	api smithy.APIError
	err error
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s: %s: %s", e.op, e.api.ErrorCode(), e.api.ErrorMessage())
}

func (e *apiError) Unwrap() error { return e.err }

// WrapAPI adds context to an error from the API client.
func WrapAPI(op string, err error) error {
	if err == nil {
		return nil
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return &apiError{op: op, api: ae, err: err}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// Table writes aligned columns.
type Table struct{ tw *tabwriter.Writer }

// NewTable starts a table with a row of headers.
func NewTable(w io.Writer, headers ...string) *Table {
	t := &Table{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
	t.Row(anySlice(headers)...)
	return t
}

func anySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// Row adds a row, each cell formatted by Cell.
func (t *Table) Row(cells ...any) {
	parts := make([]string, len(cells))
	for i, c := range cells {
		parts[i] = Cell(c)
	}
	fmt.Fprintln(t.tw, strings.Join(parts, "\t"))
}

// Flush writes the table out.
func (t *Table) Flush() error { return t.tw.Flush() }

// Fields writes "Name: value" lines, skipping empty values.
func Fields(w io.Writer, kv ...any) error {
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	for i := 0; i+1 < len(kv); i += 2 {
		if v := Cell(kv[i+1]); v != "-" {
			fmt.Fprintf(tw, "%v:\t%s\n", kv[i], v)
		}
	}
	return tw.Flush()
}

// Cell formats a value for human output; nil and empty become "-".
func Cell(v any) string {
	s := ""
	switch x := v.(type) {
	case nil:
	case *string:
		if x != nil {
			s = *x
		}
	case *int64:
		if x != nil {
			s = fmt.Sprint(*x)
		}
	case *bool:
		if x != nil {
			s = fmt.Sprint(*x)
		}
	case *time.Time:
		if x != nil {
			s = x.UTC().Format(time.RFC3339)
		}
	case time.Time:
		if !x.IsZero() {
			s = x.UTC().Format(time.RFC3339)
		}
	case fmt.Stringer:
		s = x.String()
	default:
		s = fmt.Sprint(v)
	}
	if s == "" {
		return "-"
	}
	return s
}

// HumanBytes formats a byte count ("-" when unknown).
func HumanBytes(n *int64) string {
	if n == nil {
		return "-"
	}
	const unit = 1024
	v := float64(*n)
	if v < unit {
		return fmt.Sprintf("%d B", *n)
	}
	i := 0
	for v >= unit && i < 5 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTP"[i-1])
}

// PercentCell formats a percentage ("-" when unknown).
func PercentCell(p float64) string {
	if p < 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", p)
}

// OptionsCell formats backup options (KEY=VALUE,...; "" when there are none).
func OptionsCell(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	return TagFlag(m).String()
}
