package jobstore

import (
	"github.com/cofferbackup/coffer/internal/catalog"
)

// Store is the catalog's job tables (backup, restore, copy, verification and maintenance jobs).
type Store struct{ db *catalog.DB }

// New returns the store of db's job tables (backup, restore, copy, verification and maintenance jobs).
func New(db *catalog.DB) *Store { return &Store{db: db} }
