package vocab

import (
	"fmt"
	"strconv"
)

// The S3 backup options coffer understands: BackupOptions of
// StartBackupJob and the AdvancedBackupSettings of plan rules. The first
// two are AWS Backup's; ReadTagsEvery and Chunking are coffer's own.
const (
	OptBackupACLs       = "BackupACLs"
	OptBackupObjectTags = "BackupObjectTags"
	// OptReadTagsEvery = "N" (1 to MaxReadTagsEvery) reads the tags and
	// ACLs of versions unchanged since the previous backup only every Nth
	// backup; "1", the default, reads them every time.
	OptReadTagsEvery = "ReadTagsEvery"
	// OptChunking = ChunkingFixed cuts the data of new versions into
	// fixed 4 MiB chunks instead of content-defined ones
	// (ChunkingContentDefined, the default): about twice as fast to back
	// up per byte, but a version that differs from an earlier one by
	// inserted or removed bytes shares only the chunks before them.
	OptChunking = "Chunking"
)

// The values of OptChunking.
const (
	ChunkingContentDefined = "content-defined"
	ChunkingFixed          = "fixed"
)

// MaxReadTagsEvery bounds ReadTagsEvery: tags at most that many backups old.
const MaxReadTagsEvery = 1000

// CheckS3BackupOptions validates S3 backup options (ErrInvalidParameter
// naming the first bad one).
func CheckS3BackupOptions(opts map[string]string) error {
	for k, v := range opts {
		switch k {
		case OptBackupACLs, OptBackupObjectTags:
			if v != "enabled" && v != "disabled" {
				return fmt.Errorf("%w: backup option %s must be \"enabled\" or \"disabled\", not %q", ErrInvalidParameter, k, v)
			}
		case OptReadTagsEvery:
			if n, err := strconv.Atoi(v); err != nil || n < 1 || n > MaxReadTagsEvery {
				return fmt.Errorf("%w: backup option %s must be a whole number from 1 to %d, not %q", ErrInvalidParameter, k, MaxReadTagsEvery, v)
			}
		case OptChunking:
			if v != ChunkingContentDefined && v != ChunkingFixed {
				return fmt.Errorf("%w: backup option %s must be %q or %q, not %q", ErrInvalidParameter, k, ChunkingContentDefined, ChunkingFixed, v)
			}
		default:
			return fmt.Errorf("%w: unknown backup option %q for S3 (known: %s, %s, %s, %s)", ErrInvalidParameter, k,
				OptBackupACLs, OptBackupObjectTags, OptReadTagsEvery, OptChunking)
		}
	}
	return nil
}

// ReadTagsEvery is the option's value in checked opts; 1 if unset.
func ReadTagsEvery(opts map[string]string) int {
	n, err := strconv.Atoi(opts[OptReadTagsEvery])
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// FixedChunks reports whether checked opts ask for fixed-size chunks.
func FixedChunks(opts map[string]string) bool { return opts[OptChunking] == ChunkingFixed }
