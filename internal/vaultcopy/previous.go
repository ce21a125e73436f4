package vaultcopy

import (
	"context"
	"errors"
	"io"

	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/vault"
)

// previous merge-joins the source's record stream with the destination's
// previous recovery point of the same resource. Both are in key order, so
// it only ever holds the records of one key (as internal/backup does).
// A match needs equal key, version id, ETag and size (and last-modified
// for unversioned objects); a miss only costs a read of the source.
type previous struct {
	rc     io.Closer
	rd     *recpoint.Reader
	ahead  *recpoint.Record
	key    string
	group  []recpoint.Record
	done   bool
	sought bool
}

// openPrevious opens the destination's previous record stream; any
// problem makes the copy a full one, never fails it.
func (c *copier) openPrevious(ctx context.Context) *previous {
	p := &previous{done: true}
	m := c.opts.Previous
	if m == nil || m.Records == "" || m.ResourceARN != c.opts.Source.ResourceARN {
		return p
	}
	rc, err := c.dst.OpenObject(ctx, vault.ObjectID(m.Records))
	if err != nil {
		return p
	}
	rd, err := recpoint.NewReader(rc)
	if err != nil {
		_ = rc.Close()
		return p
	}
	p.rc, p.rd, p.done = rc, rd, false
	p.advance()
	return p
}

func (p *previous) close() {
	if p.rc != nil {
		_ = p.rc.Close()
	}
}

func (p *previous) advance() {
	if p.done {
		p.ahead = nil
		return
	}
	var r recpoint.Record
	if err := p.rd.Next(&r); err != nil {
		if !errors.Is(err, io.EOF) {
			p.rd = nil
		}
		p.done, p.ahead = true, nil
		return
	}
	p.ahead = &r
}

func (p *previous) seek(key string) {
	if p.sought && key == p.key {
		return
	}
	p.key, p.group, p.sought = key, p.group[:0], true
	for p.ahead != nil && p.ahead.Key < key {
		p.advance()
	}
	for p.ahead != nil && p.ahead.Key == key {
		p.group = append(p.group, *p.ahead)
		p.advance()
	}
}

// find returns the previous record of the same version as r, or nil.
func (p *previous) find(r *recpoint.Record) *recpoint.Record {
	if p.done && p.ahead == nil && len(p.group) == 0 {
		return nil
	}
	p.seek(r.Key)
	for i := range p.group {
		if sameVersion(&p.group[i], r) {
			return &p.group[i]
		}
	}
	return nil
}

func sameVersion(p, r *recpoint.Record) bool {
	if p.DeleteMarker || p.Data == "" || p.Key != r.Key || p.Size != r.Size || p.ETag != r.ETag || p.ETag == "" {
		return false
	}
	if unversioned(r.VersionID) {
		return unversioned(p.VersionID) && p.LastModified.Equal(r.LastModified)
	}
	return p.VersionID == r.VersionID
}

func unversioned(id string) bool { return id == "" || id == "null" }
