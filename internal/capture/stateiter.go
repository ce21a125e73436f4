package capture

import (
	"context"
	"errors"
	"io"

	"github.com/cofferbackup/coffer/internal/capturelog"
	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/vault"
)

// stateIter reads the state at a plan's T key by key, pulled by the scan
// as its listing goes (both in key order): capturelog.StateAt pushes,
// so it runs in a goroutine feeding a small channel.
type stateIter struct {
	ch     chan recpoint.Record
	errc   chan error
	cancel context.CancelFunc
	peek   *recpoint.Record
	done   bool
	err    error
}

func newStateIter(ctx context.Context, v *vault.Vault, p capturelog.Plan) *stateIter {
	ctx, cancel := context.WithCancel(ctx)
	it := &stateIter{ch: make(chan recpoint.Record, 256), errc: make(chan error, 1), cancel: cancel}
	go func() {
		defer close(it.ch)
		it.errc <- capturelog.StateAt(ctx, v, p, func(r *recpoint.Record) error {
			select {
			case it.ch <- *r:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	return it
}

func (it *stateIter) next() (*recpoint.Record, error) {
	if it.peek != nil {
		r := it.peek
		it.peek = nil
		return r, nil
	}
	if it.done {
		return nil, io.EOF
	}
	r, ok := <-it.ch
	if !ok {
		it.done = true
		if err := <-it.errc; err != nil && !errors.Is(err, context.Canceled) {
			it.err = err
			return nil, err
		}
		return nil, io.EOF
	}
	return &r, nil
}

// take returns the records of key (versions by id), skipping smaller keys.
func (it *stateIter) take(key string) (map[string]*recpoint.Record, error) {
	out := map[string]*recpoint.Record{}
	for {
		r, err := it.next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		switch {
		case r.Key < key:
			continue
		case r.Key == key:
			out[r.VersionID] = r
		default:
			it.peek = r
			return out, nil
		}
	}
}

func (it *stateIter) close() {
	it.cancel()
	for range it.ch { //nolint:revive // drain so the producer ends
	}
}
