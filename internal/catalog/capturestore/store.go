package capturestore

import (
	"github.com/cofferbackup/coffer/internal/catalog"
)

// Store is the catalog's protections and event inbox.
type Store struct{ db *catalog.DB }

// New returns the store over db's tables.
func New(db *catalog.DB) *Store { return &Store{db: db} }
