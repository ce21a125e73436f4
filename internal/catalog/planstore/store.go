package planstore

import (
	"context"
	"database/sql"

	"github.com/cofferbackup/coffer/internal/catalog"
)

// Store is the catalog's plans, selections and plan runs.
type Store struct{ db *catalog.DB }

// New returns the store over db's tables.
func New(db *catalog.DB) *Store { return &Store{db: db} }

// inTx runs fn in a catalog transaction, committed if fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	return s.db.InTx(ctx, func(tx *catalog.Tx) error { return fn(tx.SQL()) })
}
