package restore

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/s3source"
)

// keyIter reads a record stream a key at a time (pull, where groupKeys
// pushes): of each key that match accepts, its newest keep records (all
// if keep is 0), newest first.
type keyIter struct {
	rd    *recpoint.Reader
	keep  int
	match func(string) bool
	next  recpoint.Record // read ahead: the first record of the next key
	have  bool
	eof   bool
	last  string // the key returned last, to check the stream's order
	begun bool
}

// key returns the next wanted key's records, or nil at the end.
func (it *keyIter) key() ([]recpoint.Record, error) {
	for {
		if !it.have {
			if it.eof {
				return nil, nil
			}
			if err := it.rd.Next(&it.next); errors.Is(err, io.EOF) {
				it.eof = true
				return nil, nil
			} else if err != nil {
				return nil, fmt.Errorf("read record stream: %w", err)
			}
			it.have = true
		}
		key := it.next.Key
		if it.begun && key <= it.last {
			// The merge with the destination's listing relies on the order.
			return nil, fmt.Errorf("read record stream: key %q after %q: out of order", key, it.last)
		}
		it.begun, it.last = true, key
		wanted := it.match(key)
		var group []recpoint.Record
		for it.have && it.next.Key == key {
			if wanted && (it.keep == 0 || len(group) < it.keep) {
				group = append(group, it.next)
			}
			it.have = false
			if err := it.rd.Next(&it.next); errors.Is(err, io.EOF) {
				it.eof = true
			} else if err != nil {
				return nil, fmt.Errorf("read record stream: %w", err)
			} else {
				it.have = true
			}
		}
		if wanted && len(group) > 0 {
			return group, nil
		}
	}
}

// mergeDest merge-joins the state's keys (it) with the destination's
// version listing, both streamed in key order, and calls fn for every key
// on either side that match accepts: recs are the state's records of the
// key (nil if the state has none), cur the destination's newest entry of
// it, a version or a delete marker (nil if the key is not listed there).
// With list false the destination is taken as empty (a bucket to
// create). Memory holds one key of each side.
func mergeDest(ctx context.Context, dst *s3source.Client, bucket string, list bool, it *keyIter,
	fn func(recs []recpoint.Record, cur *s3source.Version) error) error {
	head, err := it.key()
	if err != nil {
		return err
	}
	if list {
		last := ""
		err = dst.ListVersions(ctx, bucket, func(v s3source.Version) error {
			if v.Key == last {
				return nil // an older entry of a key already seen
			}
			last = v.Key
			for head != nil && head[0].Key < v.Key {
				if err := fn(head, nil); err != nil {
					return err
				}
				if head, err = it.key(); err != nil {
					return err
				}
			}
			if head != nil && head[0].Key == v.Key {
				if err := fn(head, &v); err != nil {
					return err
				}
				head, err = it.key()
				return err
			}
			if !it.match(v.Key) {
				return nil
			}
			return fn(nil, &v)
		})
		if err != nil {
			return err
		}
	}
	for head != nil {
		if err := fn(head, nil); err != nil {
			return err
		}
		if head, err = it.key(); err != nil {
			return err
		}
	}
	return nil
}
