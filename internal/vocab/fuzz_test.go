package vocab

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzARN: ParseARN never panics, refuses with ErrInvalidParameter, and
// gives back the very text it parsed; a vault ARN it accepts is the one
// Names builds for that region, account and name.
func FuzzARN(f *testing.F) {
	for _, s := range []string{
		"arn:aws:backup:us-east-1:000000000000:backup-vault:main",
		"arn:aws:backup:eu-west-3:123456789012:recovery-point:photos-20261201-ab12cd34",
		"arn:aws:backup:us-east-1:000000000000:backup-plan:5D8E-11",
		"arn:aws:s3:::bucket", "arn:aws:s3:conn::bucket/with:colons", "arn:aws:backup:::backup-vault:x",
		"arn:aws:backup:r:a:backup-vault:", "arn:aws:backup:r:a:backup-vault:bad name", "arn:aws-cn:backup:r:a:backup-vault:vv",
		"arn:aws:ec2:::i-1", "arn::::::", "arn:aws", "", "ARN:aws:s3:::b", "arn:aws:backup:r:a:backup-vault:vv:extra",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseARN(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidParameter) {
				t.Fatalf("%q: %v does not wrap ErrInvalidParameter", s, err)
			}
		} else if a.String() != s {
			t.Fatalf("%q parsed to %+v, which prints %q", s, a, a.String())
		}
		va, name, err := ParseVaultARN(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidParameter) {
				t.Fatalf("%q: %v does not wrap ErrInvalidParameter", s, err)
			}
			return
		}
		if got := (Names{Region: va.Region, AccountID: va.Account}).VaultARN(name); got != s || strings.ContainsAny(name, ":/") {
			t.Fatalf("%q: vault %q rebuilds as %q", s, name, got)
		}
	})
}

// FuzzBounds: a duration the bounds accept gives a deadline ahead of the
// start and storable by the catalog; the add never wraps, whatever the count.
func FuzzBounds(f *testing.F) {
	for _, v := range []int64{0, 1, 59, 60, 480, 99_999, 200_000, MaxDeleteAfterDays, MaxDeleteAfterDays + 1, MaxWindowMinutes, MaxWindowMinutes + 1, -1, 1<<63 - 1, -1 << 63} {
		f.Add(v, int64(1796115270))
	}
	f.Fuzz(func(t *testing.T, n, startSec int64) {
		start := time.Unix(startSec%(1<<33), 0) // years 1697 to 2242
		for _, add := range []func(time.Time, int64) time.Time{AddDays, AddMinutes} {
			if got := add(start, n); got.Before(start) || got.After(MaxTime) {
				t.Fatalf("add(%v, %d) = %v", start, n, got)
			}
		}
		if ValidateDeleteAfterDays(n) == nil {
			if d := AddDays(start, n); !d.After(start) || d.Sub(start) != time.Duration(n)*24*time.Hour {
				t.Fatalf("%d days from %v: %v", n, start, d)
			}
		}
		if ValidateStartWindow(n) == nil {
			if d := AddMinutes(start, n); d.Sub(start) != time.Duration(n)*time.Minute {
				t.Fatalf("%d minutes from %v: %v", n, start, d)
			}
		}
	})
}
