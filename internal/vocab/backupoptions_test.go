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
		fixed bool
	}{
		{"none", nil, true, 1, false},
		{"aws options", map[string]string{"BackupACLs": "disabled", "BackupObjectTags": "enabled"}, true, 1, false},
		{"read tags every 7", map[string]string{"ReadTagsEvery": "7"}, true, 7, false},
		{"read tags every 1", map[string]string{"ReadTagsEvery": "1"}, true, 1, false},
		{"at the bound", map[string]string{"ReadTagsEvery": "1000"}, true, 1000, false},
		{"over the bound", map[string]string{"ReadTagsEvery": "1001"}, false, 0, false},
		{"zero", map[string]string{"ReadTagsEvery": "0"}, false, 0, false},
		{"negative", map[string]string{"ReadTagsEvery": "-2"}, false, 0, false},
		{"not a number", map[string]string{"ReadTagsEvery": "weekly"}, false, 0, false},
		{"bad acl value", map[string]string{"BackupACLs": "maybe"}, false, 0, false},
		{"unknown key", map[string]string{"WindowsVSS": "enabled"}, false, 0, false},
		{"fixed chunks", map[string]string{"Chunking": "fixed"}, true, 1, true},
		{"content-defined chunks", map[string]string{"Chunking": "content-defined", "ReadTagsEvery": "3"}, true, 3, false},
		{"bad chunking", map[string]string{"Chunking": "FIXED-4M"}, false, 0, false},
		{"empty chunking", map[string]string{"Chunking": ""}, false, 0, false},
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
				if got := FixedChunks(c.opts); got != c.fixed {
					t.Errorf("FixedChunks(%v) = %v, want %v", c.opts, got, c.fixed)
				}
			}
		})
	}
}
