package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestPercentOf(t *testing.T) {
	cases := []struct {
		name        string
		pct         *string
		done, total *int64
		want        float64
	}{
		{"percent done", aws.String("42.5"), nil, nil, 42.5},
		{"percent sign", aws.String(" 7% "), aws.Int64(1), aws.Int64(2), 7},
		{"bytes", nil, aws.Int64(1), aws.Int64(4), 25},
		{"garbage falls back to bytes", aws.String("n/a"), aws.Int64(3), aws.Int64(4), 75},
		{"unknown total", nil, aws.Int64(3), aws.Int64(0), -1},
		{"nothing", nil, nil, nil, -1},
	}
	for _, tc := range cases {
		if got := PercentOf(tc.pct, tc.done, tc.total); got != tc.want {
			t.Errorf("%s: percentOf = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestProgressLine(t *testing.T) {
	p := JobProgress{State: "RUNNING", Percent: 50, Done: 1024, Total: 2048, ETAMinutes: 3}
	bar := progressLine("job x", p, true)
	if !strings.Contains(bar, "["+strings.Repeat("#", 15)+strings.Repeat(".", 15)+"]") || !strings.Contains(bar, "50.0%") ||
		!strings.Contains(bar, "1.0 KiB/2.0 KiB") || !strings.Contains(bar, "~3 min left") {
		t.Errorf("bar line = %q", bar)
	}
	plain := progressLine("job x", p, false)
	if strings.Contains(plain, "[") || !strings.HasPrefix(plain, "job x: RUNNING 50.0%") {
		t.Errorf("plain line = %q", plain)
	}
	over := progressLine("j", JobProgress{State: "RUNNING", Percent: 250, Done: -1, Total: -1, ETAMinutes: -1}, true)
	if !strings.Contains(over, "["+strings.Repeat("#", 30)+"]") {
		t.Errorf("percent above 100 not clamped: %q", over)
	}
	done := progressLine("j", JobProgress{State: "FAILED", Percent: -1, Done: -1, Total: -1, Message: "boom"}, false)
	if done != "j: FAILED (boom)" {
		t.Errorf("final line = %q", done)
	}
	if err := finalError("j", JobProgress{State: "PARTIAL"}); err != nil {
		t.Errorf("PARTIAL is an error: %v", err)
	}
	for _, st := range []string{"FAILED", "ABORTED", "EXPIRED"} {
		if err := finalError("j", JobProgress{State: st, Message: "m"}); err == nil || !strings.Contains(err.Error(), st+": m") {
			t.Errorf("%s: finalError = %v", st, err)
		}
	}
}

func TestWaitJobPrintsChanges(t *testing.T) {
	old := PollInterval
	PollInterval = time.Millisecond
	defer func() { PollInterval = old }()
	states := []JobProgress{
		{State: "CREATED", Percent: -1, Done: -1, Total: -1},
		{State: "RUNNING", Percent: 50, Done: 1024, Total: 2048},
		{State: "RUNNING", Percent: 50, Done: 1024, Total: 2048},
		{State: "FAILED", Percent: 50, Done: 1024, Total: 2048, Message: "boom"},
	}
	var b strings.Builder
	polls := 0
	last, err := waitJob(context.Background(), &b, "job x", func(context.Context) (JobProgress, error) {
		polls++
		return states[polls-1], nil
	})
	want := "job x: CREATED\njob x: RUNNING 50.0% 1.0 KiB/2.0 KiB\njob x: FAILED 50.0% 1.0 KiB/2.0 KiB (boom)\n"
	if b.String() != want {
		t.Errorf("progress:\n%s\nwant:\n%s", b.String(), want)
	}
	if polls != len(states) || last.State != "FAILED" || err == nil || err.Error() != "job x ended FAILED: boom" {
		t.Errorf("polls %d, last %+v, err %v", polls, last, err)
	}
}
