package vocab

import (
	"errors"
	"testing"
)

func TestCheckS3BackupOptions(t *testing.T) {
	for _, c := range []struct {
		name  string
		opts  map[string]string
		ok    bool
		every int
	}{
		{"none", nil, true, 1},
		{"aws options", map[string]string{"BackupACLs": "disabled", "BackupObjectTags": "enabled"}, true, 1},
		{"read tags every 7", map[string]string{"ReadTagsEvery": "7"}, true, 7},
		{"read tags every 1", map[string]string{"ReadTagsEvery": "1"}, true, 1},
		{"at the bound", map[string]string{"ReadTagsEvery": "1000"}, true, 1000},
		{"over the bound", map[string]string{"ReadTagsEvery": "1001"}, false, 0},
		{"zero", map[string]string{"ReadTagsEvery": "0"}, false, 0},
		{"negative", map[string]string{"ReadTagsEvery": "-2"}, false, 0},
		{"not a number", map[string]string{"ReadTagsEvery": "weekly"}, false, 0},
		{"bad acl value", map[string]string{"BackupACLs": "maybe"}, false, 0},
		{"unknown key", map[string]string{"WindowsVSS": "enabled"}, false, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := CheckS3BackupOptions(c.opts)
			if c.ok != (err == nil) || (err != nil && !errors.Is(err, ErrInvalidParameter)) {
				t.Fatalf("CheckS3BackupOptions(%v) = %v, want ok=%v", c.opts, err, c.ok)
			}
			if c.ok {
				if got := ReadTagsEvery(c.opts); got != c.every {
					t.Errorf("ReadTagsEvery(%v) = %d, want %d", c.opts, got, c.every)
				}
			}
		})
	}
}
