package restore

import (
	"errors"
	"testing"

	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/s3source"
)

// TestResumeFrom: how much of a key's selected history (V: a version of
// that size, D: a delete marker; oldest first) the destination's entries
// (written oldest first here, listed newest first) account for.
func TestResumeFrom(t *testing.T) {
	for _, tc := range []struct {
		name, sel, have string
		want            int
		err             error
	}{
		{"nothing written", "1D2", "", 0, nil},
		{"beginning", "123", "12", 2, nil},
		{"whole", "1D2", "1D2", 3, nil},
		{"stacked kept", "1DD2", "1DD2", 4, nil},
		{"stacked collapsed, whole", "1DD2", "1D2", 4, nil},
		{"stacked collapsed, stopped after", "1DD23", "1D2", 4, nil},
		{"stopped inside the run", "1DD2", "1D", 2, nil},
		{"three stacked, two kept", "1DDD2", "1DD", 3, nil},
		{"three stacked, collapsed", "1DDD2", "1D2", 5, nil},
		{"ends in markers, collapsed", "1DD", "1D", 2, nil},
		{"other size", "12", "13", 0, errHistoryDiffers},
		{"marker for a version", "12", "1D", 0, errHistoryDiffers},
		{"version for a marker", "1D2", "12", 0, errHistoryDiffers},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sel []recpoint.Record
			for _, c := range tc.sel {
				sel = append(sel, recpoint.Record{Key: "k", DeleteMarker: c == 'D', Size: int64(c - '0')})
			}
			var have []s3source.Version
			for _, c := range tc.have {
				v := s3source.Version{Key: "k", DeleteMarker: c == 'D'}
				if c != 'D' {
					v.Size = int64(c - '0')
				}
				have = append([]s3source.Version{v}, have...)
			}
			got, err := resumeFrom(sel, have)
			if !errors.Is(err, tc.err) || (err == nil && got != tc.want) {
				t.Fatalf("resumeFrom(%s, %s) = %d, %v; want %d, %v", tc.sel, tc.have, got, err, tc.want, tc.err)
			}
		})
	}
}
