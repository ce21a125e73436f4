package vaultcopy

import (
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/recpoint"
)

func TestSameVersion(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	base := recpoint.Record{Key: "k", VersionID: "v1", Size: 10, ETag: `"e"`, LastModified: t0, Data: "obj"}
	for _, tt := range []struct {
		name string
		prev func(*recpoint.Record)
		cur  func(*recpoint.Record)
		want bool
	}{
		{"same", nil, nil, true},
		{"other version", nil, func(r *recpoint.Record) { r.VersionID = "v2" }, false},
		{"other etag", nil, func(r *recpoint.Record) { r.ETag = `"f"` }, false},
		{"other size", nil, func(r *recpoint.Record) { r.Size = 11 }, false},
		{"other key", nil, func(r *recpoint.Record) { r.Key = "j" }, false},
		{"no etag", func(r *recpoint.Record) { r.ETag = "" }, func(r *recpoint.Record) { r.ETag = "" }, false},
		{"previous without data", func(r *recpoint.Record) { r.Data = "" }, nil, false},
		{"previous is a delete marker", func(r *recpoint.Record) { r.DeleteMarker = true }, nil, false},
		{"unversioned, same time", func(r *recpoint.Record) { r.VersionID = "null" }, func(r *recpoint.Record) { r.VersionID = "" }, true},
		{"unversioned, other time", func(r *recpoint.Record) { r.VersionID = "" },
			func(r *recpoint.Record) { r.VersionID = ""; r.LastModified = t0.Add(time.Second) }, false},
		{"unversioned against versioned", func(r *recpoint.Record) { r.VersionID = "v1" }, func(r *recpoint.Record) { r.VersionID = "" }, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, r := base, base
			if tt.prev != nil {
				tt.prev(&p)
			}
			if tt.cur != nil {
				tt.cur(&r)
			}
			if got := sameVersion(&p, &r); got != tt.want {
				t.Fatalf("sameVersion = %v, want %v", got, tt.want)
			}
		})
	}
}
