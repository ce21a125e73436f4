package capturestore

import (
	"github.com/cofferbackup/coffer/internal/catalog"
)

// Store is the catalog's continuous-capture tables (protections and the event inbox).
type Store struct{ db *catalog.DB }

// New returns the store of db's continuous-capture tables (protections and the event inbox).
func New(db *catalog.DB) *Store { return &Store{db: db} }
