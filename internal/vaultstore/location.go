package vaultstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cofferbackup/coffer/internal/fsmode"
	"github.com/cofferbackup/coffer/internal/vault"
)

// locationFile, in a vault's directory, says that the vault's blobs live
// in an S3 bucket: the directory then holds only it, the connection config
// and the cache.
const locationFile = "location.json"

// Location is where an S3-backed vault's blobs live: under
// Prefix/<vault id>/ in Bucket on connection Connection. The vault id in
// the path is what lets a new server find a vault's secret (derived from
// the id) from the bucket alone (AttachS3).
type Location struct {
	Connection string `json:"connection"`
	Bucket     string `json:"bucket"`
	Prefix     string `json:"prefix,omitempty"`
}

// ParseLocation reads s3://CONNECTION/BUCKET[/PREFIX].
func ParseLocation(s string) (Location, error) {
	rest, ok := strings.CutPrefix(s, "s3://")
	parts := strings.SplitN(rest, "/", 3)
	if !ok || len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return Location{}, fmt.Errorf("vault location %q: want s3://CONNECTION/BUCKET[/PREFIX]", s)
	}
	l := Location{Connection: parts[0], Bucket: parts[1]}
	if len(parts) == 3 {
		l.Prefix = strings.Trim(parts[2], "/")
	}
	return l, nil
}

// String is the location as s3://CONNECTION/BUCKET[/PREFIX].
func (l Location) String() string {
	s := "s3://" + l.Connection + "/" + l.Bucket
	if l.Prefix != "" {
		s += "/" + l.Prefix
	}
	return s
}

// vaultPrefix is where vault id's blobs live in the bucket.
func (l Location) vaultPrefix(id string) string {
	if l.Prefix == "" {
		return id + "/"
	}
	return l.Prefix + "/" + id + "/"
}

// Resolver gives the endpoint and credentials of a connection (its
// Bucket and Prefix are left empty).
type Resolver func(ctx context.Context, connection string) (vault.S3Location, error)

// WithResolver lets the store open S3-backed vaults.
func (f *FS) WithResolver(r Resolver) *FS {
	f.resolve = r
	return f
}

// s3Options are the options of vault id at location l.
func (f *FS) s3Options(ctx context.Context, id string, l Location) (vault.Options, error) {
	if f.resolve == nil {
		return vault.Options{}, errors.New("this server cannot open S3-backed vaults")
	}
	s3, err := f.resolve(ctx, l.Connection)
	if err != nil {
		return vault.Options{}, fmt.Errorf("vault location %s: %w", l, err)
	}
	s3.Bucket, s3.Prefix = l.Bucket, l.vaultPrefix(id)
	o := f.vaultOpts(id)
	o.S3 = &s3
	o.Clock = nil // object ages on S3 follow the endpoint's clock
	return o, nil
}

// CreateS3 makes vault id with its blobs at location l, with every blob
// under lock's retention when lock is not nil. The location file goes
// first: a crash after it leaves a directory that opens (or fails to,
// naming the location) rather than a vault that forgot where it lives.
func (f *FS) CreateS3(ctx context.Context, id, secret string, l Location, lock *vault.ObjectLock) (*vault.Vault, error) {
	if err := ValidID(id); err != nil {
		return nil, err
	}
	dir := f.Location(id)
	if _, err := os.Lstat(dir); err == nil {
		return nil, fmt.Errorf("create vault %s: %w", id, ErrExists)
	}
	o, err := f.s3Options(ctx, id, l)
	if err != nil {
		return nil, err
	}
	o.ObjectLock = lock
	if err := writeLocation(dir, l); err != nil {
		return nil, fmt.Errorf("create vault %s: %w", id, err)
	}
	v, err := vault.Create(ctx, dir, secret, o)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("create vault %s at %s: %w", id, l, err)
	}
	return v, nil
}

// AttachS3 registers vault id, whose blobs are at location l (made by
// another server with the same master key), in this store.
func (f *FS) AttachS3(ctx context.Context, id, secret string, l Location) (*vault.Vault, error) {
	if err := ValidID(id); err != nil {
		return nil, err
	}
	dir := f.Location(id)
	if _, err := os.Lstat(dir); err == nil {
		return nil, fmt.Errorf("attach vault %s: %w", id, ErrExists)
	}
	o, err := f.s3Options(ctx, id, l)
	if err != nil {
		return nil, err
	}
	if err := writeLocation(dir, l); err != nil {
		return nil, fmt.Errorf("attach vault %s: %w", id, err)
	}
	v, err := vault.Open(ctx, dir, secret, o)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("attach vault %s at %s: %w", id, l, err)
	}
	return v, nil
}

// VaultLocation returns where vault id's blobs live: ok false for a
// vault kept in its directory.
func (f *FS) VaultLocation(id string) (Location, bool, error) {
	data, err := os.ReadFile(filepath.Join(f.Location(id), locationFile))
	if errors.Is(err, fs.ErrNotExist) {
		return Location{}, false, nil
	}
	if err != nil {
		return Location{}, false, fmt.Errorf("vault %s: %w", id, err)
	}
	var l Location
	if err := json.Unmarshal(data, &l); err != nil {
		return Location{}, false, fmt.Errorf("vault %s: %s: %w", id, locationFile, err)
	}
	return l, true, nil
}

func writeLocation(dir string, l Location) error {
	if err := os.MkdirAll(dir, fsmode.Dir); err != nil {
		return err
	}
	data, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, locationFile), data, fsmode.File)
}
