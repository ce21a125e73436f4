package vaultcopy

import (
	"context"
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
	groups *recpoint.Groups
}

// openPrevious opens the destination's previous record stream; any
// problem makes the copy a full one, never fails it.
func (c *copier) openPrevious(ctx context.Context) *previous {
	p := &previous{groups: recpoint.NewGroups(nil, nil)}
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
	p.rc, p.groups = rc, recpoint.NewGroups(rd, nil)
	return p
}

func (p *previous) close() {
	if p.rc != nil {
		_ = p.rc.Close()
	}
}

// find returns the previous record of the same version as r, or nil.
func (p *previous) find(r *recpoint.Record) *recpoint.Record {
	group := p.groups.Of(r.Key)
	for i := range group {
		if sameVersion(&group[i], r) {
			return &group[i]
		}
	}
	return nil
}

// sameVersion reports whether the destination's record p already holds
// the version r of the source.
func sameVersion(p, r *recpoint.Record) bool {
	if p.DeleteMarker || p.Data == "" || p.Key != r.Key || p.Size != r.Size || p.ETag != r.ETag || p.ETag == "" {
		return false
	}
	if recpoint.Unversioned(r.VersionID) {
		return recpoint.Unversioned(p.VersionID) && p.LastModified.Equal(r.LastModified)
	}
	return p.VersionID == r.VersionID
}
