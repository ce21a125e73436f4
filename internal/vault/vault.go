package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"
	"github.com/kopia/kopia/repo"
	"github.com/kopia/kopia/repo/blob"
	"github.com/kopia/kopia/repo/blob/filesystem"
	"github.com/kopia/kopia/repo/content"
	"github.com/kopia/kopia/repo/encryption"
	"github.com/kopia/kopia/repo/format"
	"github.com/kopia/kopia/repo/splitter"

	"github.com/cofferbackup/coffer/internal/clock"
	"github.com/cofferbackup/coffer/internal/fsmode"
	"github.com/cofferbackup/coffer/internal/vaultfs"
)

// Sentinel errors callers branch on.
var (
	ErrNotFound      = errors.New("not found")
	ErrExists        = errors.New("vault already exists")
	ErrWrongPassword = errors.New("wrong vault password")
)

// errClosed is returned by operations on a closed vault or a finished
// write session.
var errClosed = errors.New("vault: closed")

// ObjectID names a stored object (the bytes of one object version, or a
// record stream). It is opaque to callers.
type ObjectID string

// Options tunes a vault. The zero value is valid.
type Options struct {
	// CacheDir holds the engine's local caches of a vault on S3; default
	// <dir>/cache. A vault on a file system has none (kopiaCacheDir).
	CacheDir string
	// CheckpointObjects and CheckpointBytes set how often a write session
	// commits the contents it wrote (see Writer); 0 means 10,000 objects
	// and 1 GiB. Tests lower them.
	CheckpointObjects int64
	CheckpointBytes   int64

	// Safety selects vaultmaint.Maintain's safety margins; the zero value is
	// SafetyFull, the only correct choice unless coffer knows it is the
	// vault's only writer (see SafetySoleWriter).
	Safety Safety
	// Owner is this process's identity, "user@host", recorded in the vault
	// as its maintenance owner when Maintain runs and in kopia's session
	// markers; default "coffer@<hostname>". Processes sharing a vault
	// should have distinct owners so that the record says who ran last.
	Owner string
	// Clock is the repository's time source (content and deletion
	// timestamps, maintenance margins); nil means the wall clock. An
	// injected clock also stamps the vault's blob files (their mtime), so
	// that the margins kopia measures on blob ages follow the same clock:
	// tests advance it instead of sleeping.
	Clock clock.Clock
	// S3, if set, keeps the vault's blobs in that bucket; the directory
	// keeps only the connection config and the cache.
	S3 *S3Location
	// ObjectLock, with S3 and only at Create, writes every blob with that
	// S3 Object Lock retention, which maintenance extends (the bucket
	// must have Object Lock enabled).
	ObjectLock *ObjectLock

	// format, if set, replaces the repository format Create writes: tests
	// make vaults in the formats earlier versions wrote.
	format *repo.NewRepositoryOptions
}

// owner returns the maintenance owner split into kopia's user and host.
func (o Options) owner() (user, host string, err error) {
	id := o.Owner
	if id == "" {
		h, herr := os.Hostname()
		if herr != nil || h == "" {
			h = "localhost"
		}

		id = clientName + "@" + h
	}

	i := strings.LastIndex(id, "@")
	if i <= 0 || i == len(id)-1 {
		return "", "", fmt.Errorf("owner %q: want user@host", id)
	}

	return id[:i], id[i+1:], nil
}

// now returns the vault's time source.
func (o Options) now() func() time.Time {
	if o.Clock == nil {
		return clock.Real{}.Now
	}

	return o.Clock.Now
}

// checkpointLimits returns the checkpoint thresholds with defaults applied.
func (o Options) checkpointLimits() (objects, bytes int64) {
	objects, bytes = o.CheckpointObjects, o.CheckpointBytes
	if objects <= 0 {
		objects = defaultCheckpointObjects
	}

	if bytes <= 0 {
		bytes = defaultCheckpointBytes
	}

	return objects, bytes
}

// Layout of a vault directory and engine settings.
const (
	repoDirName    = "repo"         // kopia blob storage (filesystem backend)
	configFileName = "kopia.config" // kopia connection config, rewritten on every open
	cacheDirName   = "cache"        // default cache directory
	cacheDirTag    = "CACHEDIR.TAG" // written by kopia in the cache directory

	// Cache sizes are kept small: a server may hold many vaults open.
	//
	// The content cache's size is also its hard limit. kopia's default
	// only sweeps contents older than 10 minutes, so a restore kept every
	// content it read in the cache (on disk, and an entry of ~150 bytes
	// each in memory): 200,000 small objects meant 30 MiB of heap and
	// 200 MB of cache files, and restores slowed down as the cache grew.
	// The metadata cache keeps kopia's age rule: it holds whole metadata
	// packs (up to 20 MiB), which a hard limit of 16 MiB would evict as
	// soon as they are read.
	contentCacheBytes  = 16 << 20
	metadataCacheBytes = 16 << 20

	clientName = "coffer" // user part of the default owner

	configLockRetry = 20 * time.Millisecond // poll interval of the config lock
)

// Vault is one open backup vault: an encrypted, deduplicated repository.
// It is safe for concurrent use.
type Vault struct {
	dir  string
	opts Options
	rep  repo.DirectRepository
	gate gate // excludes Maintain from writes (see vaultmaint.Maintain)

	mu     sync.RWMutex // guards closed; held shared by operations using rep
	closed bool
}

// Create initialises a new vault in dir (which must be empty or absent) with
// the given secret and opens it.
func Create(ctx context.Context, dir string, secret string, opts Options) (*Vault, error) {
	v, err := create(ctx, dir, secret, opts)
	if err != nil {
		return nil, fmt.Errorf("create vault %q: %w", dir, err)
	}

	return v, nil
}

func create(ctx context.Context, dir, secret string, opts Options) (*Vault, error) {
	if secret == "" {
		return nil, errors.New("empty secret")
	}

	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}

	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}

	ro := newRepositoryOptions()
	if opts.format != nil {
		ro = opts.format
	}

	if l := opts.ObjectLock; l != nil {
		if opts.S3 == nil {
			return nil, errors.New("object lock needs an S3 location")
		}

		if err := l.validate(); err != nil {
			return nil, err
		}

		ro.RetentionMode, ro.RetentionPeriod = blob.RetentionMode(l.Mode), l.Period
	}

	st, err := newStorage(ctx, dir, true, opts)
	if err != nil {
		return nil, err
	}

	err = repo.Initialize(ctx, st, ro, secret)
	if cerr := st.Close(ctx); cerr != nil && err == nil {
		err = cerr
	}

	if errors.Is(err, repo.ErrAlreadyInitialized) {
		return nil, fmt.Errorf("%w: %w", ErrExists, err)
	}

	if err != nil {
		return nil, fmt.Errorf("initialize repository: %w", err)
	}

	// A cache left over from an earlier vault in the same place would
	// describe a different repository.
	if err := os.RemoveAll(cacheDir(dir, opts)); err != nil {
		return nil, fmt.Errorf("clear cache: %w", err)
	}

	v, err := openDir(ctx, dir, secret, opts)
	if err != nil || opts.ObjectLock == nil {
		return v, err
	}

	if err := v.enableObjectLockExtension(ctx); err != nil {
		_ = v.Close(ctx)
		return nil, err
	}

	return v, nil
}

// Repository formats. A vault's format is fixed when it is created and
// read back from the vault itself, so vaults created with the earlier
// defaults (BLAKE2B-256-128) keep them and stay readable.
const (
	// contentHash is keyed BLAKE3 (content ids reveal nothing about the
	// data without the key): 4x the throughput of kopia's default keyed
	// BLAKE2b on this project's machines (BenchmarkHash,
	// docs/performance.md), where hashing was the costliest step per byte.
	contentHash = "BLAKE3-256-128"
	// contentEncryption is authenticated encryption, AES-256-GCM with
	// HMAC-SHA256 derived keys (kopia's default; 2.5x ChaCha20-Poly1305
	// with AES-NI).
	contentEncryption = encryption.DefaultAlgorithm
	// objectSplitter is kopia's default content-defined splitter (buzhash,
	// ~4 MiB average), the fastest content-defined one (BenchmarkSplitter).
	objectSplitter = splitter.DefaultAlgorithm
)

// newRepositoryOptions is the repository format of a new vault.
func newRepositoryOptions() *repo.NewRepositoryOptions {
	return &repo.NewRepositoryOptions{
		BlockFormat:  format.ContentFormat{Hash: contentHash, Encryption: contentEncryption},
		ObjectFormat: format.ObjectFormat{Splitter: objectSplitter},
	}
}

// Open opens an existing vault in dir.
func Open(ctx context.Context, dir string, secret string, opts Options) (*Vault, error) {
	abs, err := filepath.Abs(dir)
	if err == nil {
		var v *Vault
		if v, err = openDir(ctx, abs, secret, opts); err == nil {
			return v, nil
		}
	}

	return nil, fmt.Errorf("open vault %q: %w", dir, err)
}

// openDir opens the vault in the absolute directory dir.
func openDir(ctx context.Context, dir, secret string, opts Options) (*Vault, error) {
	st, err := newStorage(ctx, dir, false, opts)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: no repository: %w", ErrNotFound, err)
	}

	if err != nil {
		return nil, err
	}

	ci := st.ConnectionInfo()
	_, err = st.GetMetadata(ctx, format.KopiaRepositoryBlobID)

	if cerr := st.Close(ctx); cerr != nil && err == nil {
		err = cerr
	}

	if errors.Is(err, blob.ErrBlobNotFound) {
		return nil, fmt.Errorf("%w: no repository: %w", ErrNotFound, err)
	}

	if err != nil {
		return nil, fmt.Errorf("read repository format: %w", err)
	}

	r, err := openRepository(ctx, dir, secret, ci, opts)
	if errors.Is(err, repo.ErrInvalidPassword) {
		return nil, fmt.Errorf("%w: %w", ErrWrongPassword, err)
	}

	if err != nil {
		return nil, fmt.Errorf("open repository: %w", err)
	}

	dr, ok := r.(repo.DirectRepository)
	if !ok {
		_ = r.Close(ctx)
		return nil, fmt.Errorf("unexpected repository type %T", r)
	}

	return &Vault{dir: dir, opts: opts, rep: dr}, nil
}

// openRepository writes the kopia connection config of the vault in dir
// and opens the repository with it. Every handle, in this process or
// another one sharing the directory, rewrites the same config file (its
// path also names kopia's local maintenance lock), and kopia reads the
// client identity from it: a lock file serialises write and open so that
// a handle never opens with another one's identity.
func openRepository(ctx context.Context, dir, secret string, ci blob.ConnectionInfo, opts Options) (repo.Repository, error) {
	user, host, err := opts.owner()
	if err != nil {
		return nil, err
	}

	cfg := filepath.Join(dir, configFileName)

	l := flock.New(cfg + ".lock")
	if _, err := l.TryLockContext(ctx, configLockRetry); err != nil {
		return nil, fmt.Errorf("lock config: %w", err)
	}
	defer l.Unlock() //nolint:errcheck // closing the file releases it too

	cache := kopiaCacheDir(dir, opts)
	if cache == "" {
		// Left by an earlier version, which cached this vault's reads too.
		if err := os.RemoveAll(cacheDir(dir, opts)); err != nil {
			return nil, fmt.Errorf("remove the stale cache: %w", err)
		}
	}
	if err := writeConfig(cfg, ci, cache, repo.ClientOptions{Username: user, Hostname: host}); err != nil {
		return nil, err
	}

	r, err := repo.Open(ctx, cfg, secret, &repo.Options{
		DisableRepositoryLog: true,
		DoNotWaitForUpgrade:  true,
		TimeNowFunc:          opts.now(),
		OnFatalError: func(err error) {
			// kopia also calls this when a cancelled operation could not
			// re-read the format blob; that is no news.
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				slog.Error("vault: fatal repository error", "dir", dir, "err", err)
			}
		},
	})
	if err != nil {
		return nil, err
	}

	// kopia writes its cache directory tag (written once, when the cache
	// directory is new) with the umask's mode.
	if cache == "" {
		return r, nil
	}
	if err := fsmode.Restrict(filepath.Join(cache, cacheDirTag)); err != nil {
		_ = r.Close(ctx)
		return nil, err
	}

	return r, nil
}

// newStorage builds the blob storage of the vault in dir. It is the only
// place that knows the backend; an S3 backend plugs in here.
func newStorage(ctx context.Context, dir string, create bool, opts Options) (blob.Storage, error) {
	if opts.S3 != nil {
		return newS3Storage(ctx, opts.S3, create)
	}

	// kopia's defaults, stated: the vault's blobs are its owner's only.
	fo := filesystem.Options{Path: filepath.Join(dir, repoDirName), FileMode: fsmode.File, DirectoryMode: fsmode.Dir}

	st, err := vaultfs.New(ctx, fo, opts.Clock, create)
	if err != nil {
		return nil, fmt.Errorf("open storage: %w", err)
	}

	return st, nil
}

// kopiaCacheDir is the directory of kopia's local caches, "" for none.
// A vault on a local file system has none: kopia would copy every content
// a restore reads into a cache file on a local disk too (written, HMAC'd
// and fsynced) to spare a later read of the same bytes from their pack,
// which cost a restore most of its time (BenchmarkReadObject on disk:
// 64 KiB objects 116 -> 759 MB/s, 64 MiB objects 280 -> 1,064 MB/s).
// Without a cache directory kopia holds the index in memory instead of
// mapping it from the cache: the same bytes, anonymous instead of
// file-backed. A vault on S3 keeps its caches: there they spare requests.
func kopiaCacheDir(dir string, opts Options) string {
	if opts.S3 == nil {
		return ""
	}

	return cacheDir(dir, opts)
}

func cacheDir(dir string, opts Options) string {
	if opts.CacheDir == "" {
		return filepath.Join(dir, cacheDirName)
	}

	if abs, err := filepath.Abs(opts.CacheDir); err == nil {
		return abs
	}

	return opts.CacheDir
}

// writeConfig (re)writes the kopia connection config for the vault. It is
// derived state: writing it on every open lets a vault directory be moved
// or re-attached on another server.
func writeConfig(path string, ci blob.ConnectionInfo, cache string, client repo.ClientOptions) error {
	lc := repo.LocalConfig{
		Storage: &ci,
		Caching: &content.CachingOptions{
			CacheDirectory:             cache,
			ContentCacheSizeBytes:      contentCacheBytes,
			ContentCacheSizeLimitBytes: contentCacheBytes,
			MetadataCacheSizeBytes:     metadataCacheBytes,
		},
		ClientOptions: repo.ClientOptions{
			Hostname:    client.Hostname,
			Username:    client.Username,
			Description: "coffer vault",
		},
	}

	b, err := json.MarshalIndent(lc, "", "  ")
	if err != nil {
		return fmt.Errorf("encode config: %w", err)
	}

	tmp, err := os.CreateTemp(filepath.Dir(path), configFileName+".*.tmp")
	if err != nil {
		return fmt.Errorf("write config: %w", err)
	}

	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}

	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}

	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write config: %w", err)
	}

	return nil
}

// Close releases the vault. Write sessions still open keep working until
// they are committed or aborted; other operations fail after Close.
func (v *Vault) Close(ctx context.Context) error {
	v.mu.Lock()
	defer v.mu.Unlock()

	if v.closed {
		return nil
	}

	v.closed = true

	if err := v.rep.Close(ctx); err != nil {
		return fmt.Errorf("close vault %q: %w", v.dir, err)
	}

	return nil
}

// use holds the vault open for the duration of an operation; the returned
// function releases it.
func (v *Vault) use() (func(), error) {
	v.mu.RLock()
	if v.closed {
		v.mu.RUnlock()
		return nil, errClosed
	}

	return v.mu.RUnlock, nil
}

// recovery-point manifests are kopia manifests with these labels.
const (
	manifestTypeRP = "coffer-recovery-point"
	labelType      = "type" // kopia's required manifest type label
	labelID        = "id"
)

func rpLabels(id string) map[string]string {
	l := map[string]string{labelType: manifestTypeRP}
	if id != "" {
		l[labelID] = id
	}

	return l
}
