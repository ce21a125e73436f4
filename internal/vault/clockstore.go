package vault

import (
	"context"
	"fmt"
	"sync"

	"github.com/kopia/kopia/repo/blob"
	"github.com/kopia/kopia/repo/blob/filesystem"

	"github.com/cofferbackup/coffer/internal/clock"
)

// clockedStorageType is the kopia storage type of a filesystem vault
// opened with an injected clock (Options.Clock).
//
// kopia measures some safety margins on blob timestamps (pack age before
// deletion, the schedule blob's time against the repository clock, epoch
// ages), others on content timestamps, which come from the repository
// clock. With an injected clock both must follow it, so this storage stamps
// every blob it writes with the clock's time. kopia builds a repository's
// storage from the connection config by type name, which cannot carry a
// clock: the clock is looked up by the storage path in a process-wide
// table, as kopia's own tests do for their in-memory storage.
const clockedStorageType = "coffer-clocked-filesystem"

// clocks maps a storage path to the clock its handles use. Entries stay:
// one per vault directory opened with a clock, a few bytes each.
var clocks sync.Map //nolint:gochecknoglobals // see clockedStorageType

func init() { //nolint:gochecknoinits // kopia's storage registry is global
	blob.AddSupportedStorage(clockedStorageType, filesystem.Options{}, openClockedStorage)
}

// newClockedStorage opens filesystem storage fo whose blob times follow c.
func newClockedStorage(ctx context.Context, fo filesystem.Options, c clock.Clock, create bool) (blob.Storage, error) {
	clocks.Store(fo.Path, c)
	return openClockedStorage(ctx, &fo, create)
}

// openClockedStorage is the storage factory kopia calls on open.
func openClockedStorage(ctx context.Context, fo *filesystem.Options, create bool) (blob.Storage, error) {
	c, ok := clocks.Load(fo.Path)
	if !ok {
		return nil, fmt.Errorf("storage %q: no clock registered (open the vault with Options.Clock)", fo.Path)
	}

	st, err := filesystem.New(ctx, fo, create)
	if err != nil {
		return nil, err //nolint:wrapcheck // wrapped by newStorage
	}

	return clockedStorage{Storage: st, clock: c.(clock.Clock), opts: *fo}, nil //nolint:forcetypeassert // only clocks are stored
}

// clockedStorage stamps written blobs with its clock's time.
type clockedStorage struct {
	blob.Storage
	clock clock.Clock
	opts  filesystem.Options
}

func (s clockedStorage) PutBlob(ctx context.Context, id blob.ID, data blob.Bytes, o blob.PutOptions) error {
	if o.SetModTime.IsZero() {
		o.SetModTime = s.clock.Now()
	}

	return s.Storage.PutBlob(ctx, id, data, o) //nolint:wrapcheck // a storage layer
}

func (s clockedStorage) ConnectionInfo() blob.ConnectionInfo {
	o := s.opts
	return blob.ConnectionInfo{Type: clockedStorageType, Config: &o}
}
