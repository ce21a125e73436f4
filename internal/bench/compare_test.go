package bench

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestCompareReport checks the side-by-side arithmetic: medians of the
// repetitions, ratios as rclone's time over coffer's, the incremental as
// a share of the full backup, and the machine-readable RATIOS line.
func TestCompareReport(t *testing.T) {
	sec := func(v ...float64) []time.Duration {
		var d []time.Duration
		for _, x := range v {
			d = append(d, time.Duration(x*float64(time.Second)))
		}
		return d
	}
	var out bytes.Buffer
	s := &sideBySide{cfg: Config{Small: 1000, SmallSize: 65536, Large: 2, LargeSize: 64 << 20, Reps: 3}, out: &out,
		peakRSS: 250 << 20, times: map[string][]time.Duration{
			"rclone download small":    sec(9, 4, 5), // median 5
			"rclone download large":    sec(2, 2, 2),
			"rclone upload small":      sec(6, 6, 7),
			"rclone upload large":      sec(3),
			"coffer full backup small": sec(2.5, 2, 3), // median 2.5
			"coffer full backup large": sec(4, 4, 4),
			"coffer incremental small": sec(0.25, 0.2, 0.1), // median 0.2
			"coffer restore small":     sec(5, 4, 3),
			"coffer restore large":     sec(3, 3, 3),
		}}
	s.report()
	want := "RATIOS full_small=2.00 full_large=0.50 inc_pct=8.00 restore_small=1.50 restore_large=1.00 rss_mib=250"
	if !strings.Contains(out.String(), want) {
		t.Fatalf("report:\n%s\nwant a line %q", out.String(), want)
	}
	if strings.Contains(out.String(), "kopia") {
		t.Errorf("kopia rows printed without kopia times:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "8.0% of full") {
		t.Errorf("incremental share missing:\n%s", out.String())
	}
}
