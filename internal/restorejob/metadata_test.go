package restorejob

import (
	"errors"
	"slices"
	"testing"

	"github.com/cofferbackup/coffer/internal/vocab"
)

func TestParseRestoreMetadata(t *testing.T) {
	for _, tt := range []struct {
		name    string
		md      map[string]string
		wantErr error
		check   func(t *testing.T, dest string, newBucket, overwrite, acls bool, upTo int, items []string)
	}{
		{name: "no destination", md: map[string]string{}, wantErr: vocab.ErrMissingParameter},
		{name: "bad destination", md: map[string]string{MetaDestinationBucket: "Bad_Name"}, wantErr: vocab.ErrInvalidParameter},
		{name: "defaults", md: map[string]string{MetaDestinationBucket: "dest"},
			check: func(t *testing.T, dest string, nb, ow, acls bool, upTo int, items []string) {
				if dest != "dest" || nb || ow || acls || upTo != 1 || items != nil {
					t.Errorf("got %q %v %v %v %d %v", dest, nb, ow, acls, upTo, items)
				}
			}},
		{name: "every option", md: map[string]string{MetaDestinationBucket: "dest", MetaNewBucket: "TRUE", MetaOverwrite: " true ",
			MetaRestoreACLs: "false", MetaVersionsUpTo: "All", MetaItemsToRestore: `["s3://src/a/", "s3://src/b.txt"]`},
			check: func(t *testing.T, dest string, nb, ow, acls bool, upTo int, items []string) {
				if !nb || !ow || acls || upTo != 0 || !slices.Equal(items, []string{"s3://src/a/", "s3://src/b.txt"}) {
					t.Errorf("got %v %v %v %d %v", nb, ow, acls, upTo, items)
				}
			}},
		{name: "versions up to 3", md: map[string]string{MetaDestinationBucket: "dest", MetaVersionsUpTo: "3"},
			check: func(t *testing.T, _ string, _, _, _ bool, upTo int, _ []string) {
				if upTo != 3 {
					t.Errorf("VersionsUpTo %d", upTo)
				}
			}},
		{name: "versions up to 0", md: map[string]string{MetaDestinationBucket: "dest", MetaVersionsUpTo: "0"}, wantErr: vocab.ErrInvalidParameter},
		{name: "versions up to junk", md: map[string]string{MetaDestinationBucket: "dest", MetaVersionsUpTo: "many"}, wantErr: vocab.ErrInvalidParameter},
		{name: "bool junk", md: map[string]string{MetaDestinationBucket: "dest", MetaNewBucket: "yes"}, wantErr: vocab.ErrInvalidParameter},
		{name: "items not JSON", md: map[string]string{MetaDestinationBucket: "dest", MetaItemsToRestore: "s3://src/a"}, wantErr: vocab.ErrInvalidParameter},
		{name: "items of another bucket", md: map[string]string{MetaDestinationBucket: "dest", MetaItemsToRestore: `["s3://other/a"]`}, wantErr: vocab.ErrInvalidParameter},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseRestoreMetadata(tt.md, "src")
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, o.DestBucket, o.NewBucket, o.Overwrite, o.RestoreACLs, o.VersionsUpTo, o.Items)
		})
	}
}

func TestParseRestoreMode(t *testing.T) {
	for _, tt := range []struct {
		name     string
		md       map[string]string
		wantErr  error
		rollback bool
		dest     string
	}{
		{name: "default", md: map[string]string{MetaDestinationBucket: "dest"}, dest: "dest"},
		{name: "restore", md: map[string]string{MetaDestinationBucket: "dest", MetaRestoreMode: "Restore"}, dest: "dest"},
		{name: "rollback to the source by default", md: map[string]string{MetaRestoreMode: "rollback"}, rollback: true, dest: "src"},
		{name: "rollback naming the source", md: map[string]string{MetaRestoreMode: " ROLLBACK ", MetaDestinationBucket: "src"}, rollback: true, dest: "src"},
		{name: "rollback elsewhere", md: map[string]string{MetaRestoreMode: "rollback", MetaDestinationBucket: "dest"}, wantErr: vocab.ErrInvalidParameter},
		{name: "rollback to a new bucket", md: map[string]string{MetaRestoreMode: "rollback", MetaNewBucket: "true"}, wantErr: vocab.ErrInvalidParameter},
		{name: "unknown mode", md: map[string]string{MetaRestoreMode: "rewind", MetaDestinationBucket: "dest"}, wantErr: vocab.ErrInvalidParameter},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseRestoreMetadata(tt.md, "src")
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || o.Rollback != tt.rollback || o.DestBucket != tt.dest {
				t.Fatalf("rollback %v dest %q err %v; want %v %q", o.Rollback, o.DestBucket, err, tt.rollback, tt.dest)
			}
		})
	}
}
