package restore

import (
	"context"
	"errors"
	"fmt"

	"github.com/cofferbackup/coffer/internal/bigobj"
	"github.com/cofferbackup/coffer/internal/jobreport"
	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/s3source"
	"github.com/cofferbackup/coffer/internal/vault"
)

// RunRecords is Run over a record stream rd that is not a manifest's
// Records object: the state of a continuous recovery point at a time
// (capturelog.WriteStateAt), whose data objects are in v. bucket is the
// source bucket (for ItemsToRestore) and name the recovery point, for
// messages. Everything after reading the stream is Run's path.
func RunRecords(ctx context.Context, dst *s3source.Client, v *vault.Vault, name, bucket string, rd *recpoint.Reader, opts Options, progress func(Stats)) (Result, error) {
	if opts.DestBucket == "" {
		return Result{}, errors.New("restore: no destination bucket given")
	}
	if opts.VersionsUpTo < 0 {
		return Result{}, fmt.Errorf("restore: versions to restore must be 0 (all) or more, got %d", opts.VersionsUpTo)
	}
	prefixes, err := ParseItems(opts.Items, bucket)
	if err != nil {
		return Result{}, fmt.Errorf("restore: %w", err)
	}
	if opts.Parallelism <= 0 {
		opts.Parallelism = DefaultParallelism
	}
	j := &job{dst: dst, v: v, opts: opts, big: bigobj.New(opts.Parallelism), log: jobreport.Log{Max: maxListed}}
	if err := j.prepareDest(ctx); err != nil {
		return Result{}, fmt.Errorf("restore: %w", err)
	}
	stop := jobreport.StartProgress(j.stats.snapshot, progress)
	err = j.dispatch(ctx, rd, newMatcher(prefixes))
	stop()
	if ctx.Err() != nil {
		return Result{}, ctx.Err()
	}
	if err != nil {
		return Result{}, fmt.Errorf("restore of recovery point %q: %w", name, err)
	}
	return j.result(), nil
}
