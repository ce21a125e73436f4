package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/cofferbackup/coffer/internal/service"
)

// sideBySide is one run of RunCompare: the medians of each work, by name.
type sideBySide struct {
	cfg     Config
	out     io.Writer
	work    string // scratch directory (local copies, configs)
	rclone  string // path of rclone
	kopia   string // path of kopia, "" if not installed
	small   string // bucket of the small objects
	large   string // bucket of the large objects
	times   map[string][]time.Duration
	peakRSS int64 // highest peak RSS of coffer's phases
}

// RunCompare runs the side-by-side comparison: the same small and large
// objects, in two versioned buckets of one endpoint, copied by rclone
// (download and upload: the naive copy, and the endpoint's own speed
// here), snapshotted by kopia from rclone's local copy (the two-step
// pipeline a user would script) when kopia is installed, and backed up,
// backed up again after 1% of the small objects changed, and restored by
// coffer. Each work runs cfg.Reps times; medians and coffer's ratios to
// rclone are printed, then one line "RATIOS ..." for scripts.
func RunCompare(ctx context.Context, cfg Config, out io.Writer) error {
	rclone, err := exec.LookPath("rclone")
	if err != nil {
		return fmt.Errorf("the side-by-side run needs rclone on PATH (Debian: apt-get install rclone): %w", err)
	}
	kopia, _ := exec.LookPath("kopia") // optional: its rows are left out
	cfg.Reps = max(cfg.Reps, 1)
	s := &sideBySide{cfg: cfg, out: out, work: filepath.Join(cfg.DataDir, "side-by-side"), rclone: rclone, kopia: kopia,
		times: map[string][]time.Duration{}}
	if err := os.MkdirAll(s.work, 0o700); err != nil {
		return err
	}
	mc, err := minioClient(cfg.S3)
	if err != nil {
		return err
	}
	stamp := time.Now().UnixNano()
	s.small, s.large = fmt.Sprintf("sbs-small-%d", stamp), fmt.Sprintf("sbs-large-%d", stamp)
	for _, b := range []struct {
		name         string
		small, large int
	}{{s.small, cfg.Small, 0}, {s.large, 0, cfg.Large}} {
		if err := makeVersioned(ctx, mc, cfg, b.name); err != nil {
			return err
		}
		if err := fill(ctx, mc, b.name, b.small, cfg.SmallSize, b.large, cfg.LargeSize, 0); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "filled %s (%d x %d B) and %s (%d x %d B)\n", s.small, cfg.Small, cfg.SmallSize, s.large, cfg.Large, cfg.LargeSize)
	if err := s.tools(ctx); err != nil {
		return err
	}
	if err := s.coffer(ctx, mc); err != nil {
		return err
	}
	s.report()
	return nil
}

func makeVersioned(ctx context.Context, mc *minio.Client, cfg Config, bucket string) error {
	if err := mc.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: cfg.S3.Region}); err != nil {
		return fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	if err := mc.EnableVersioning(ctx, bucket); err != nil {
		return fmt.Errorf("enable versioning on %s: %w", bucket, err)
	}
	return nil
}

// tools times rclone's downloads and uploads and kopia's snapshots.
func (s *sideBySide) tools(ctx context.Context) error {
	conf := filepath.Join(s.work, "rclone.conf")
	c := s.cfg.S3
	body := fmt.Sprintf("[m]\ntype = s3\nprovider = Minio\naccess_key_id = %s\nsecret_access_key = %s\nendpoint = %s\nregion = %s\n",
		c.AccessKey, c.SecretKey, c.Endpoint, c.Region)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		return err
	}
	// rclone's S3 client refuses a custom CA bundle over plain HTTP.
	env := append(slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "AWS_CA_BUNDLE=") }),
		"RCLONE_CONFIG="+conf)
	dl := map[string]string{s.small: filepath.Join(s.work, "small"), s.large: filepath.Join(s.work, "large")}
	transfers := map[string]string{s.small: "16", s.large: "8"}
	for rep := range s.cfg.Reps {
		for _, b := range []string{s.small, s.large} {
			if err := os.RemoveAll(dl[b]); err != nil {
				return err
			}
			if err := s.time(ctx, "rclone download "+kind(b, s), env, s.rclone, "copy", "m:"+b, dl[b], "--transfers", transfers[b]); err != nil {
				return err
			}
			dest := fmt.Sprintf("%s-up%d", b, rep)
			if err := s.time(ctx, "rclone upload "+kind(b, s), env, s.rclone, "copy", dl[b], "m:"+dest, "--transfers", transfers[b]); err != nil {
				return err
			}
		}
	}
	if s.kopia == "" {
		fmt.Fprintln(s.out, "kopia not on PATH: its rows are left out")
		return nil
	}
	for rep := range s.cfg.Reps {
		repoDir := filepath.Join(s.work, fmt.Sprintf("kopia-%d", rep))
		kenv := append(os.Environ(), "KOPIA_PASSWORD=side-by-side", "KOPIA_CHECK_FOR_UPDATES=false",
			"KOPIA_CONFIG_PATH="+filepath.Join(repoDir, "config"))
		if err := run(ctx, kenv, s.kopia, "repository", "create", "filesystem", "--path", filepath.Join(repoDir, "repo"),
			"--cache-directory", filepath.Join(repoDir, "cache")); err != nil {
			return err
		}
		for _, b := range []string{s.small, s.large} {
			if err := s.time(ctx, "kopia snapshot "+kind(b, s), kenv, s.kopia, "snapshot", "create", dl[b]); err != nil {
				return err
			}
		}
	}
	return nil
}

func kind(bucket string, s *sideBySide) string {
	if bucket == s.small {
		return "small"
	}
	return "large"
}

// time runs a command and records its wall time under name.
func (s *sideBySide) time(ctx context.Context, name string, env []string, bin string, args ...string) error {
	t0 := time.Now()
	if err := run(ctx, env, bin, args...); err != nil {
		return err
	}
	s.times[name] = append(s.times[name], time.Since(t0))
	return nil
}

func run(ctx context.Context, env []string, bin string, args ...string) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %v: %w\n%s", filepath.Base(bin), args, err, b)
	}
	return nil
}

// coffer times coffer's full backups (a new vault each repetition), the
// incrementals after 1% of the small objects changed, and the restores.
func (s *sideBySide) coffer(ctx context.Context, mc *minio.Client) error {
	svc, err := s.cfg.openService(ctx)
	if err != nil {
		return err
	}
	defer svc.Close(context.Background())
	phase := func(name string, fn func() (int64, int64, string, error)) error {
		p, err := s.cfg.measure(0, name, fn)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		s.times[name] = append(s.times[name], p.Duration)
		s.peakRSS = max(s.peakRSS, p.PeakRSS)
		return nil
	}
	for rep := range s.cfg.Reps {
		v := fmt.Sprintf("sbs%d", rep)
		if _, err := svc.CreateVault(ctx, service.CreateVaultInput{Name: v}); err != nil {
			return err
		}
		for _, b := range []string{s.small, s.large} {
			if err := phase("coffer full backup "+kind(b, s), func() (int64, int64, string, error) { return s.cfg.backupInto(ctx, svc, v, b) }); err != nil {
				return err
			}
		}
	}
	changed := max(s.cfg.Small/100, 1)
	for rep := range s.cfg.Reps {
		if err := fill(ctx, mc, s.small, changed, s.cfg.SmallSize, 0, 0, rep+1); err != nil {
			return err
		}
		if err := phase("coffer incremental small", func() (int64, int64, string, error) { return s.cfg.backupInto(ctx, svc, "sbs0", s.small) }); err != nil {
			return err
		}
	}
	for rep := range s.cfg.Reps {
		for _, b := range []string{s.small, s.large} {
			dest := fmt.Sprintf("%s-rs%d", b, rep)
			if err := phase("coffer restore "+kind(b, s), func() (int64, int64, string, error) { return s.cfg.restoreInto(ctx, svc, "sbs0", b, dest) }); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *sideBySide) median(name string) float64 {
	d := slices.Clone(s.times[name])
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[(len(d)-1)/2].Seconds()
}

// report prints the medians, coffer's ratios and the RATIOS line.
func (s *sideBySide) report() {
	c := s.cfg
	mbLarge := float64(int64(c.Large)*c.LargeSize) / 1e6
	fmt.Fprintf(s.out, "\nside by side: %d x %d B and %d x %d B objects, medians of %d\n", c.Small, c.SmallSize, c.Large, c.LargeSize, c.Reps)
	fmt.Fprintf(s.out, "%-34s %9s %14s\n", "work", "seconds", "rate")
	for _, name := range []string{"rclone download small", "rclone download large", "rclone upload small", "rclone upload large",
		"kopia snapshot small", "kopia snapshot large", "coffer full backup small", "coffer full backup large",
		"coffer incremental small", "coffer restore small", "coffer restore large"} {
		sec := s.median(name)
		if sec == 0 {
			continue
		}
		rate := fmt.Sprintf("%.0f obj/s", float64(c.Small)/sec)
		switch {
		case name == "coffer incremental small":
			rate = fmt.Sprintf("%.1f%% of full", 100*sec/s.median("coffer full backup small"))
		case name[len(name)-5:] == "large":
			rate = fmt.Sprintf("%.0f MB/s", mbLarge/sec)
		}
		fmt.Fprintf(s.out, "%-34s %9.2f %14s\n", name, sec, rate)
	}
	ratio := func(yard, coffer string) float64 { return s.median(yard) / s.median(coffer) }
	fs, fl := ratio("rclone download small", "coffer full backup small"), ratio("rclone download large", "coffer full backup large")
	rs, rl := ratio("rclone upload small", "coffer restore small"), ratio("rclone upload large", "coffer restore large")
	inc := 100 * s.median("coffer incremental small") / s.median("coffer full backup small")
	fmt.Fprintf(s.out, "coffer peak RSS: %.0f MiB\n", float64(s.peakRSS)/(1<<20))
	fmt.Fprintf(s.out, "ratios (rclone's time over coffer's; goals: >= 1.0, >= 0.8, <= 5%%, >= 1.2, >= 1.0, <= 300 MiB): "+
		"full small %.2fx, full large %.2fx, incremental %.1f%%, restore small %.2fx, restore large %.2fx\n", fs, fl, inc, rs, rl)
	fmt.Fprintf(s.out, "RATIOS full_small=%.2f full_large=%.2f inc_pct=%.2f restore_small=%.2f restore_large=%.2f rss_mib=%.0f\n",
		fs, fl, inc, rs, rl, float64(s.peakRSS)/(1<<20))
}
