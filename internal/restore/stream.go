package restore

import (
	"context"
	"fmt"
	"io"

	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/s3source"
	"github.com/cofferbackup/coffer/internal/vault"
)

// Stream is the state of a recovery point as a record stream (the
// coffer-records format of docs/format.md: keys ascending, each key's
// entries newest first), whatever produced it: a periodic recovery
// point's Records object (ManifestStream) or, for a continuous one, the
// state at a time T that capturelog.WriteStateAt writes. Restore, preview
// and rollback all read a Stream: one restore path for every kind.
type Stream struct {
	// Name names the recovery point in messages.
	Name string
	// Bucket is the recovery point's source bucket: items must name it.
	Bucket string
	// Open opens the stream; it is called once per run.
	Open func(ctx context.Context) (io.ReadCloser, error)
}

// ManifestStream is the record stream of the periodic recovery point m,
// kept in v.
func ManifestStream(v *vault.Vault, m recpoint.Manifest) Stream {
	return Stream{Name: m.ID, Bucket: m.Bucket, Open: func(ctx context.Context) (io.ReadCloser, error) {
		if m.Records == "" {
			return nil, fmt.Errorf("recovery point %q has no record stream", m.ID)
		}
		rc, err := v.OpenObject(ctx, vault.ObjectID(m.Records))
		if err != nil {
			return nil, fmt.Errorf("open record stream of recovery point %q: %w", m.ID, err)
		}
		return rc, nil
	}}
}

// open opens the stream and checks its header.
func (s Stream) open(ctx context.Context) (*recpoint.Reader, func(), error) {
	if s.Open == nil {
		return nil, nil, fmt.Errorf("recovery point %q: no record stream", s.Name)
	}
	rc, err := s.Open(ctx)
	if err != nil {
		return nil, nil, err
	}
	rd, err := recpoint.NewReader(rc)
	if err != nil {
		_ = rc.Close()
		return nil, nil, fmt.Errorf("recovery point %q: %w", s.Name, err)
	}
	return rd, func() { _ = rc.Close() }, nil
}

// Run restores the periodic recovery point m from v into opts.DestBucket
// on dst: RunStream of its Records object.
func Run(ctx context.Context, dst *s3source.Client, v *vault.Vault, m recpoint.Manifest, opts Options, progress func(Stats)) (Result, error) {
	if m.Records == "" {
		return Result{}, fmt.Errorf("restore: recovery point %q has no record stream", m.ID)
	}
	return RunStream(ctx, dst, v, ManifestStream(v, m), opts, progress)
}
