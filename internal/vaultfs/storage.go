package vaultfs

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/kopia/kopia/repo/blob"
	"github.com/kopia/kopia/repo/blob/filesystem"
	"golang.org/x/sys/unix"

	"github.com/cofferbackup/coffer/internal/clock"
)

// StorageType is the kopia storage type of a vault on a file system.
// kopia builds a repository's storage from its connection config by type
// name; a config names this type so that kopia opens the storage below.
// The repository's own format does not name it: a vault written through it
// is a plain kopia filesystem repository.
const StorageType = "coffer-filesystem"

// dataPackPrefix starts the names of kopia's data packs, the blobs that
// hold object data (metadata packs, "q", and indexes stay cached: kopia
// reads them back at once).
const dataPackPrefix = "p"

// clocks maps a storage path to the clock its handles use. A clock cannot
// travel in the connection config, so it is looked up by path, as kopia's
// own tests do for their in-memory storage. Entries stay: one per vault
// directory opened with a clock (tests), a few bytes each.
var clocks sync.Map //nolint:gochecknoglobals // see StorageType

func init() { //nolint:gochecknoinits // kopia's storage registry is global
	blob.AddSupportedStorage(StorageType, filesystem.Options{}, open)
}

// New opens (create: creates) the storage at fo.Path. With a clock c, every
// blob written gets c's time as its modification time: kopia measures
// safety margins on blob times as well as on content times, which come
// from the repository clock, and both must follow an injected clock.
func New(ctx context.Context, fo filesystem.Options, c clock.Clock, create bool) (blob.Storage, error) {
	if c != nil {
		clocks.Store(fo.Path, c)
	}

	return open(ctx, &fo, create)
}

// open is the storage factory kopia calls.
func open(ctx context.Context, fo *filesystem.Options, create bool) (blob.Storage, error) {
	st, err := filesystem.New(ctx, fo, create)
	if err != nil {
		return nil, err //nolint:wrapcheck // kopia's storage layer; the vault wraps it
	}

	paths, ok := st.(filePaths)
	if !ok {
		return nil, fmt.Errorf("kopia filesystem storage %T does not name its files", st)
	}

	s := &storage{Storage: st, paths: paths, opts: *fo}
	if c, ok := clocks.Load(fo.Path); ok {
		s.clock, _ = c.(clock.Clock)
	}

	return s, nil
}

// filePaths is what kopia's sharded filesystem storage tells of a blob's
// file.
type filePaths interface {
	GetShardedPathAndFilePath(ctx context.Context, id blob.ID) (shardPath, filePath string, err error)
}

type storage struct {
	blob.Storage
	paths filePaths
	clock clock.Clock // nil: kopia's own times
	opts  filesystem.Options
}

// PutBlob writes the blob as kopia does (a temporary file, synced, renamed
// into place), then drops a data pack's pages from the page cache: a
// backup writes gigabytes that are read again at the earliest by a
// verification or a restore, and cached they only evict what the
// machine's other services read. On virtual machines whose memory the
// host backs on first use, that also spares the writer the host's cost of
// every page the cache would otherwise grow into (ten times the cost of
// the write itself on the project's machine, docs/performance.md).
func (s *storage) PutBlob(ctx context.Context, id blob.ID, data blob.Bytes, o blob.PutOptions) error {
	if s.clock != nil && o.SetModTime.IsZero() {
		o.SetModTime = s.clock.Now()
	}

	if err := s.Storage.PutBlob(ctx, id, data, o); err != nil {
		return err //nolint:wrapcheck // a storage layer
	}

	s.dropCache(ctx, id, 0, 0)

	return nil
}

// GetBlob reads as kopia does, then drops the range read of a data pack
// from the page cache: a restore or verification reads each content once.
func (s *storage) GetBlob(ctx context.Context, id blob.ID, offset, length int64, output blob.OutputBuffer) error {
	if err := s.Storage.GetBlob(ctx, id, offset, length, output); err != nil {
		return err //nolint:wrapcheck // a storage layer
	}

	switch {
	case length > 0:
		s.dropCache(ctx, id, offset, length)
	case length < 0: // the whole blob (a verification of the pack)
		s.dropCache(ctx, id, 0, 0)
	}

	return nil
}

// dropCache advises the kernel that a data pack's range (length 0: to its
// end) will not be read again soon. The pages are clean: kopia synced the
// file before renaming it into place. Advice only: any failure leaves the
// pages cached, which is what kopia does anyway.
func (s *storage) dropCache(ctx context.Context, id blob.ID, offset, length int64) {
	if !strings.HasPrefix(string(id), dataPackPrefix) {
		return
	}

	_, path, err := s.paths.GetShardedPathAndFilePath(ctx, id)
	if err != nil {
		return
	}

	f, err := os.Open(path) //nolint:gosec // a path of this storage
	if err != nil {
		return
	}
	defer f.Close() //nolint:errcheck // read-only

	_ = unix.Fadvise(int(f.Fd()), offset, length, unix.FADV_DONTNEED) //nolint:gosec // a file descriptor fits an int
}

// ConnectionInfo names this storage type, so that kopia reopens it.
func (s *storage) ConnectionInfo() blob.ConnectionInfo {
	o := s.opts
	return blob.ConnectionInfo{Type: StorageType, Config: &o}
}
