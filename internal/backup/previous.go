package backup

import (
	"context"
	"fmt"
	"io"

	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/s3source"
	"github.com/cofferbackup/coffer/internal/vault"
)

// previous merge-joins the current listing with the previous recovery
// point's record stream. Both are in listing order, so it only ever holds
// the records of one key. It is used by the lister goroutine alone.
//
// If the endpoint's listing order ever differs from the stream's byte order
// the join misses matches (the versions are read again, and the vault's own
// dedup avoids storing them twice) but never matches wrongly: a match needs
// equal key, version id, ETag and size (and last-modified for unversioned
// objects).
type previous struct {
	rc     io.Closer
	groups *recpoint.Groups
}

// openPrevious opens the previous recovery point's record stream. Any
// problem downgrades the run to a full backup (noted), never fails it.
func (j *job) openPrevious(ctx context.Context, v *vault.Vault) *previous {
	p := &previous{groups: recpoint.NewGroups(nil, nil)}
	m := j.opts.Previous
	if m == nil || m.Records == "" {
		return p
	}
	if m.Bucket != "" && m.Bucket != j.opts.Bucket {
		j.log.Note(fmt.Sprintf("previous recovery point %s is of bucket %q, not %q: full backup", m.ID, m.Bucket, j.opts.Bucket))
		return p
	}
	rc, err := v.OpenObject(ctx, vault.ObjectID(m.Records))
	if err != nil {
		j.log.Note(fmt.Sprintf("previous recovery point %s unreadable, full backup: %v", m.ID, err))
		return p
	}
	rd, err := recpoint.NewReader(rc)
	if err != nil {
		_ = rc.Close()
		j.log.Note(fmt.Sprintf("previous recovery point %s unreadable, full backup: %v", m.ID, err))
		return p
	}
	p.rc = rc
	p.groups = recpoint.NewGroups(rd, func(err error) {
		j.log.Note("incremental comparison stopped, remaining objects were read in full: " + err.Error())
	})
	return p
}

func (p *previous) close() {
	if p.rc != nil {
		_ = p.rc.Close()
	}
}

// find returns the previous record of the same version of v, or nil.
func (p *previous) find(v *s3source.Version) *recpoint.Record {
	if v.DeleteMarker {
		return nil
	}
	group := p.groups.Of(v.Key)
	for i := range group {
		if r := &group[i]; sameVersion(r, v) {
			rec := *r
			return &rec
		}
	}
	return nil
}

// sameVersion reports whether r already captured the version v.
func sameVersion(r *recpoint.Record, v *s3source.Version) bool {
	if r.DeleteMarker || r.Key != v.Key || r.Size != v.Size || r.ETag != v.ETag || r.ETag == "" {
		return false
	}
	if r.Size > 0 && r.Data == "" {
		return false
	}
	if recpoint.Unversioned(v.VersionID) {
		return recpoint.Unversioned(r.VersionID) && r.LastModified.Equal(v.LastModified)
	}
	return r.VersionID == v.VersionID
}
