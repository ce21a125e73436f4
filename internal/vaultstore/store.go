package vaultstore

import (
	"context"
	"errors"

	"github.com/cofferbackup/coffer/internal/vault"
)

// Sentinel errors callers branch on.
var (
	ErrNotFound  = errors.New("vault not in the store")
	ErrExists    = errors.New("vault id already in the store")
	ErrInvalidID = errors.New("invalid vault id")
)

// Store holds a server's vaults by id. Implementations are safe for
// concurrent use; calls on one id are serialised by the caller.
type Store interface {
	// Create makes an empty vault with the given id and secret and opens
	// it; ErrExists if the id is taken.
	Create(ctx context.Context, id, secret string) (*vault.Vault, error)
	// Open opens vault id; ErrNotFound if the store has none (as Exists
	// says),
	// vault.ErrWrongPassword if secret is not its secret.
	Open(ctx context.Context, id, secret string) (*vault.Vault, error)
	// Exists reports whether vault id is in the store. It answers false
	// only when the store can tell that the vault is not there; whatever
	// it cannot tell (an unreadable store) is an error, never false, so
	// that a caller never takes a vault it cannot see for a vanished one.
	Exists(ctx context.Context, id string) (bool, error)
	// Delete removes vault id and everything in it (it must be closed).
	// Deleting an absent vault does nothing.
	Delete(ctx context.Context, id string) error
	// List returns the ids of every vault in the store, sorted.
	List(ctx context.Context) ([]string, error)
	// Location describes where vault id lives, for logs and messages.
	Location(id string) string
}

// Importer is a Store that can take in a vault directory made elsewhere
// (coffer vault attach).
type Importer interface {
	// Import brings the vault directory src into the store as vault id.
	Import(ctx context.Context, src, id string) (Imported, error)
}

// Imported says how Import brought a vault in.
type Imported struct {
	// Moved is true when src was renamed into the store (src is gone);
	// false when it was copied and verified (src is left as it was).
	Moved bool
	// Undo takes the vault out of the store again (moving it back, or
	// removing the copy), for a caller whose next step failed.
	Undo func() error
}

// S3Store is a Store that can keep vaults' blobs in S3 buckets.
type S3Store interface {
	// CreateS3 makes vault id with its blobs at l (under lock's retention
	// if lock is not nil).
	CreateS3(ctx context.Context, id, secret string, l Location, lock *vault.ObjectLock) (*vault.Vault, error)
	// AttachS3 takes in vault id whose blobs are at l.
	AttachS3(ctx context.Context, id, secret string, l Location) (*vault.Vault, error)
	// VaultLocation says where vault id's blobs are (ok false: in its
	// directory).
	VaultLocation(id string) (l Location, ok bool, err error)
}
