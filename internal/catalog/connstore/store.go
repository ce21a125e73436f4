package connstore

import (
	"github.com/cofferbackup/coffer/internal/catalog"
)

// Store is the catalog's stored connections.
type Store struct{ db *catalog.DB }

// New returns the store over db's tables.
func New(db *catalog.DB) *Store { return &Store{db: db} }
